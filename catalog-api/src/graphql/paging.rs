//! Relay connections over lists computed whole for one request (a BOM, a blast-radius group,
//! an application's versions): `first`/`after`, `totalCount`, `pageInfo`, and opaque
//! cursors that name the list they came from, so a cursor from another list (or a
//! hand-written number) is refused with a `BAD_USER_INPUT` naming `after`, never a panic or a
//! silent restart. Lists read from the store or the graph by key page by that key instead
//! (events, deployments, components); both share `page_size`.

use super::page_size;
use crate::errors::ApiError;
use async_graphql::connection::{Connection, CursorType, Edge, EmptyFields, OpaqueCursor};
use async_graphql::{OutputType, SimpleObject};
use serde::{Deserialize, Serialize};

/// What an offset cursor holds: the list it belongs to and where the next page starts.
#[derive(Serialize, Deserialize, PartialEq, Debug)]
pub struct At {
    #[serde(rename = "l")]
    list: String,
    #[serde(rename = "o")]
    offset: usize,
}

/// The connection-level fields every such connection has.
#[derive(SimpleObject)]
pub struct Counted {
    /// How many items the whole list has (every page together).
    pub total_count: i32,
}

pub type CountedConnection<T> = Connection<OpaqueCursor<At>, T, Counted, EmptyFields>;

/// One page to fetch: how many, from where.
pub struct Window {
    list: String,
    pub first: usize,
    pub offset: usize,
}

impl Window {
    /// Checks `first` (1-500, 50 by default) and `after` (a cursor of `list`).
    pub fn new(
        list: impl Into<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Window> {
        let list = list.into();
        let first = page_size(first)?;
        let offset = match after {
            None => 0,
            Some(a) => match OpaqueCursor::<At>::decode_cursor(&a) {
                Ok(c) if c.list == list => c.offset,
                _ => {
                    return Err(ApiError::bad(
                        "after",
                        format!(
                            "{a:?} is not a cursor of this connection (use its pageInfo.endCursor)"
                        ),
                    )
                    .graphql())
                }
            },
        };
        Ok(Window {
            list,
            first,
            offset,
        })
    }

    /// The connection of `items` (the page, already cut at `offset`, `first` at most).
    pub fn connection<T: OutputType>(
        self,
        items: Vec<T>,
        has_next: bool,
        total: usize,
    ) -> CountedConnection<T> {
        let mut conn = Connection::with_additional_fields(
            self.offset > 0,
            has_next,
            Counted {
                total_count: i32::try_from(total).unwrap_or(i32::MAX),
            },
        );
        conn.edges
            .extend(items.into_iter().enumerate().map(|(i, node)| {
                Edge::new(
                    OpaqueCursor(At {
                        list: self.list.clone(),
                        offset: self.offset + i + 1,
                    }),
                    node,
                )
            }));
        conn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(list: &str, offset: usize) -> String {
        OpaqueCursor(At {
            list: list.into(),
            offset,
        })
        .encode_cursor()
    }

    #[test]
    fn a_cursor_resumes_its_own_list_only() {
        let w = Window::new("bom", Some(10), Some(cursor("bom", 30))).unwrap();
        assert_eq!((w.first, w.offset), (10, 30));
        for bad in [
            cursor("blast:images", 30),
            "30".into(),
            "%%%".into(),
            String::new(),
        ] {
            let e = Window::new("bom", None, Some(bad.clone())).err().unwrap();
            assert!(e.message.contains("not a cursor"), "{bad:?}: {}", e.message);
        }
        assert!(Window::new("bom", Some(0), None).is_err());
        assert!(Window::new("bom", Some(501), None).is_err());
    }
}
