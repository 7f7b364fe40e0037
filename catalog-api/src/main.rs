use catalog_api::config::{Cli, Command};
use catalog_api::server;
use clap::Parser;

/// mimalloc: GraphQL answers are thousands of small allocations (a perf profile of an
/// inventory query put 27% of its time in the system allocator).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => {
            // `catalog` alone is `catalog serve` with defaults (and CATALOG_* variables).
            let args = Cli::parse_from(["catalog", "serve"]);
            match args.command {
                Some(Command::Serve(a)) => run_serve(a, false),
                _ => Err(anyhow::anyhow!("cannot build default serve arguments")),
            }
        }
        Some(Command::Serve(a)) => run_serve(a, false),
        Some(Command::Worker(a)) => run_serve(a, true),
        Some(Command::Migrate(db)) => {
            server::init_tracing(catalog_api::config::LogFormat::Text);
            server::open_store(&db.database_url, 2, catalog_schema::Access::ReadWrite)
                .map(|_| eprintln!("migrations are up to date"))
        }
        Some(Command::Token(t)) => server::token(t),
        Some(Command::Deploy(a)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            return catalog_api::deploy::run(a);
        }
        Some(Command::Approve(a)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            return catalog_api::deploy::approve(a);
        }
        Some(Command::Config(cmd)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            return catalog_api::configure::run(cmd);
        }
        Some(Command::Notify(cmd)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            return catalog_api::notify::cli::run(cmd);
        }
        Some(Command::Import(cmd)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            return catalog_api::import::run(cmd);
        }
        Some(Command::Schema) => {
            print!("{}", catalog_api::graphql::sdl());
            Ok(())
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run_serve(args: catalog_api::config::ServeArgs, worker_only: bool) -> anyhow::Result<()> {
    server::init_tracing(args.log_format);
    let _ = rustls::crypto::ring::default_provider().install_default();
    actix_web::rt::System::new().block_on(async move {
        if worker_only {
            server::worker(args).await
        } else {
            server::serve(args).await
        }
    })
}
