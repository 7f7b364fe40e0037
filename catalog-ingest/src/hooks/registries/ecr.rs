//! Amazon ECR (`/hooks/ecr`). ECR has no webhooks: it sends EventBridge "ECR Image Action"
//! events, which reach HTTP either as the bare event (an EventBridge API destination,
//! `application/json`) or wrapped in an SNS HTTPS delivery (`text/plain`, told apart by the
//! `x-amz-sns-message-type` header): a `Notification` carries the event as a JSON string in
//! `Message` (or as the body itself with raw message delivery); a `SubscriptionConfirmation`
//! becomes [`Outcome::SnsConfirm`]; an `UnsubscribeConfirmation` is ignored.
//!
//! Read: `detail.action-type` `PUSH` and `DELETE` with `detail.result` `SUCCESS`; every other
//! action (`UPDATE_STORAGE_CLASS`), result, detail-type (referrer, scan, replication events)
//! or source is ignored. The events name no host: it is
//! `<account>.dkr.ecr.<region>.amazonaws.com` (`.amazonaws.com.cn` in the China regions).
//! The key is the EventBridge `id`, not the SNS `MessageId`, so the same event reaching the
//! catalog both ways is one. A push by digest has `image-tag` `""` and is ignored, as
//! [`finish`] does for every sender. A delete naming a tag is a tag delete, because ECR then
//! removes only that tag when the image has others (and the image with its last tag: the
//! catalog keeps it, untagged); a delete with no tag removes the manifest.
//!
//! SNS signs its deliveries with a key whose certificate would have to be fetched
//! (`SigningCertURL`); the catalog makes no such call. SNS is authenticated instead by the user
//! and password in the subscription's URL ([`verify`]), and the API checks the topic
//! ([`sns_topic`]) against the ones it is configured with.

use super::{
    finish, ignored_one, json, renamed, rfc3339, secret_matches, Action, Notice, Outcome, Parsed,
    Request,
};
use crate::item::{valid_digest, FieldError};
use base64::Engine;
use serde::Deserialize;

pub const CONTENT_TYPES: [&str; 2] = ["application/json", "text/plain"];

const SNS_TYPE: &str = "x-amz-sns-message-type";
const SNS_TOPIC: &str = "x-amz-sns-topic-arn";

#[derive(Deserialize)]
struct Event {
    id: Option<String>,
    #[serde(rename = "detail-type")]
    detail_type: Option<String>,
    source: Option<String>,
    account: Option<String>,
    region: Option<String>,
    time: Option<String>,
    detail: Option<Detail>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Detail {
    result: Option<String>,
    action_type: Option<String>,
    repository_name: Option<String>,
    image_digest: Option<String>,
    image_tag: Option<String>,
    manifest_media_type: Option<String>,
}

/// An SNS HTTP(S) delivery's body (the fields read; SNS sends more).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Sns {
    #[serde(rename = "Type")]
    kind: Option<String>,
    topic_arn: Option<String>,
    message: Option<String>,
    token: Option<String>,
}

pub fn parse(req: &Request, body: &[u8]) -> Result<Outcome, FieldError> {
    let Some(kind) = req.header(SNS_TYPE) else {
        return event(req, body, "").map(Outcome::Items);
    };
    let sns: Sns = json(body)?;
    if let Some(k) = sns.kind.as_deref().filter(|k| *k != kind) {
        return Err(FieldError::new(
            "Type",
            format!("{k:?} differs from the {SNS_TYPE} header ({kind:?})"),
        ));
    }
    if let (Some(body_topic), Some(header_topic)) = (&sns.topic_arn, req.header(SNS_TOPIC)) {
        if body_topic != header_topic {
            return Err(FieldError::new(
                "TopicArn",
                format!("differs from the {SNS_TOPIC} header"),
            ));
        }
    }
    match kind {
        "Notification" => match sns.message {
            Some(m) => event(req, m.as_bytes(), "Message").map(Outcome::Items),
            // Raw message delivery: the body is the event itself.
            None if sns.kind.is_none() => event(req, body, "").map(Outcome::Items),
            None => Err(FieldError::new("Message", "missing")),
        },
        "SubscriptionConfirmation" => {
            let topic_arn = sns
                .topic_arn
                .ok_or_else(|| FieldError::new("TopicArn", "missing"))?;
            if sns_endpoint(&topic_arn).is_none() {
                return Err(FieldError::new(
                    "TopicArn",
                    format!("{topic_arn:?} is not an SNS topic ARN"),
                ));
            }
            let token = sns
                .token
                .filter(|t| !t.trim().is_empty())
                .ok_or_else(|| FieldError::new("Token", "missing"))?;
            Ok(Outcome::SnsConfirm { topic_arn, token })
        }
        "UnsubscribeConfirmation" => Ok(Outcome::Items(ignored_one())),
        other => Err(FieldError::new(
            SNS_TYPE,
            format!("{other:?} is not Notification, SubscriptionConfirmation or UnsubscribeConfirmation"),
        )),
    }
}

/// The SNS topic a request was published to, when it is an SNS delivery (`None` for an API
/// destination's bare event), for the API to check against the topics it accepts.
pub fn sns_topic(req: &Request, body: &[u8]) -> Option<String> {
    req.header(SNS_TYPE)?;
    serde_json::from_slice::<Sns>(body)
        .ok()
        .and_then(|s| s.topic_arn)
        .or_else(|| req.header(SNS_TOPIC).map(str::to_string))
}

/// The SNS endpoint of a topic's own region (`https://sns.eu-west-1.amazonaws.com`), where a
/// subscription is confirmed (`ConfirmSubscription` with `TopicArn` and `Token`), or `None`
/// when `topic_arn` is not `arn:<partition>:sns:<region>:<account>:<name>`. The endpoint
/// comes from the ARN, never from the payload's `SubscribeURL`.
pub fn sns_endpoint(topic_arn: &str) -> Option<String> {
    let parts: Vec<&str> = topic_arn.split(':').collect();
    let [arn, partition, service, region, account, name] = parts.as_slice() else {
        return None;
    };
    let name_ok = !name.is_empty()
        && name.len() <= 256
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    let domain = aws_domain(region)?;
    (*arn == "arn"
        && partition.starts_with("aws")
        && *service == "sns"
        && valid_account(account)
        && name_ok)
        .then(|| format!("https://sns.{region}.{domain}"))
}

/// Checks what SNS and API destinations can send: SNS only the user and password written in
/// the subscription's URL (`https://ecr:SECRET@catalog.example/hooks/ecr`), as
/// `Authorization: Basic`; an API destination's connection any header, such as
/// `Authorization: Bearer SECRET`. Constant time.
pub fn verify(secret: &[u8], req: &Request, _body: &[u8]) -> Result<(), String> {
    let auth = req
        .header("authorization")
        .ok_or("no Authorization header (SNS: put ecr:SECRET@ in the subscription's URL)")?;
    let (scheme, value) = auth.split_once(' ').unwrap_or((auth, ""));
    let presented = if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .map_err(|_| "Authorization: Basic is not base64")?;
        match decoded.iter().position(|b| *b == b':') {
            Some(i) => decoded[i + 1..].to_vec(),
            None => return Err("Authorization: Basic holds no user:password".into()),
        }
    } else if scheme.eq_ignore_ascii_case("bearer") {
        value.trim().as_bytes().to_vec()
    } else {
        return Err("Authorization must be Basic or Bearer".into());
    };
    if secret_matches(secret, &presented) {
        Ok(())
    } else {
        Err("the Authorization secret does not match".into())
    }
}

/// One EventBridge event; `prefix` is where it sits in the body (`Message` in an SNS delivery).
fn event(req: &Request, bytes: &[u8], prefix: &str) -> Result<Parsed, FieldError> {
    let f = |name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        }
    };
    let e: Event = if prefix.is_empty() {
        json(bytes)?
    } else {
        super::super::duplicate_keys::reject_duplicate_keys(bytes, prefix)?;
        serde_json::from_slice(bytes)
            .map_err(|err| FieldError::new(prefix, format!("invalid JSON: {err}")))?
    };
    let detail_type = e
        .detail_type
        .ok_or_else(|| FieldError::new(f("detail-type"), "missing"))?;
    if detail_type != "ECR Image Action" || e.source.as_deref().is_some_and(|s| s != "aws.ecr") {
        return Ok(ignored_one());
    }
    let d = e
        .detail
        .ok_or_else(|| FieldError::new(f("detail"), "missing"))?;
    let result = d
        .result
        .ok_or_else(|| FieldError::new(f("detail.result"), "missing"))?;
    let action = match d.action_type.as_deref() {
        Some("PUSH") => Action::Push,
        Some("DELETE") => Action::Delete,
        Some(_) => return Ok(ignored_one()),
        None => return Err(FieldError::new(f("detail.action-type"), "missing")),
    };
    if result != "SUCCESS" {
        return Ok(ignored_one());
    }
    let id =
        e.id.filter(|i| !i.trim().is_empty())
            .ok_or_else(|| FieldError::new(f("id"), "missing"))?;
    let time = e
        .time
        .ok_or_else(|| FieldError::new(f("time"), "missing"))?;
    let occurred_at = rfc3339(&f("time"), &time)?;
    let registry = match (e.account, e.region) {
        (Some(account), Some(region)) => {
            Some(host(&account, &region).map_err(|(field, why)| FieldError::new(f(field), why))?)
        }
        _ if req.registry.is_some() => None,
        (None, _) => return Err(FieldError::new(f("account"), "missing")),
        (_, None) => return Err(FieldError::new(f("region"), "missing")),
    };
    let repository = d
        .repository_name
        .ok_or_else(|| FieldError::new(f("detail.repository-name"), "missing"))?;
    let digest = d.image_digest.filter(|d| !d.is_empty());
    // Checked here, not only by `finish`: a tag delete drops the digest below.
    if let Some(dg) = &digest {
        if !valid_digest(dg) {
            return Err(FieldError::new(
                f("detail.image-digest"),
                format!("{dg:?} is not a sha256/sha512 digest"),
            ));
        }
    }
    let tag = d.image_tag.filter(|t| !t.is_empty());
    let digest = match (action, &tag) {
        (Action::Delete, Some(_)) => None,
        _ => digest,
    };
    let notice = Notice {
        at: f("detail"),
        action,
        key: format!("ecr:{id}"),
        registry,
        repository,
        tag,
        digest,
        media_type: d.manifest_media_type.filter(|m| !m.is_empty()),
        size: None,
        occurred_at,
        actor: "ecr".into(),
    };
    finish("ecr", req, vec![notice], 0).map_err(|e| {
        renamed(
            e,
            &[
                ("repository", "repository-name"),
                ("digest", "image-digest"),
                ("tag", "image-tag"),
            ],
        )
    })
}

/// `<account>.dkr.ecr.<region>.<domain>`, or which of the two is wrong.
fn host(account: &str, region: &str) -> Result<String, (&'static str, String)> {
    if !valid_account(account) {
        return Err((
            "account",
            format!("{account:?} is not a 12-digit AWS account"),
        ));
    }
    let domain =
        aws_domain(region).ok_or_else(|| ("region", format!("{region:?} is not an AWS region")))?;
    Ok(format!("{account}.dkr.ecr.{region}.{domain}"))
}

fn valid_account(a: &str) -> bool {
    a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())
}

/// The DNS domain of a region's endpoints (`eu-west-1`: `amazonaws.com`), `None` when
/// `region` is not a region name.
fn aws_domain(region: &str) -> Option<&'static str> {
    let ok = !region.is_empty()
        && region.len() <= 32
        && region.split('-').count() >= 3
        && region.split('-').all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    ok.then_some(if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::registries::testing::{fixture, fixture_text, headers, parsed, request};
    use crate::item::InboxBody;
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    const TOPIC: &str = "arn:aws:sns:us-west-2:123456789012:ecr-events";
    const HOST: &str = "123456789012.dkr.ecr.us-west-2.amazonaws.com";
    /// The documentation's 60-hex digest and a valid one made from it.
    const SHORT: &str = "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234";
    const FULL: &str = "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd12345678";

    fn bare(body: &[u8]) -> Result<Outcome, FieldError> {
        let h = headers(&[("User-Agent", "Amazon/EventBridge/ApiDestinations")]);
        parse(&request(&h, "application/json", None), body)
    }

    /// SNS's HTTP(S) delivery of `message`, as documented ("HTTP/HTTPS notification JSON
    /// format"; the signature fields are placeholders: the catalog does not read them).
    fn sns_body(kind: &str, message: &str) -> Vec<u8> {
        let mut v = json!({
            "Type": kind,
            "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
            "TopicArn": TOPIC,
            "Message": message,
            "Timestamp": "2019-11-16T01:54:35.123Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLEw6JRN",
            "SigningCertURL": "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
        });
        if kind == "SubscriptionConfirmation" {
            v["Token"] = json!("2336412f37fb687f5d51e6e2425f004ae");
            v["SubscribeURL"] = json!(format!("https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=2336412f37fb687f5d51e6e2425f004ae"));
        } else {
            v["UnsubscribeURL"] =
                json!("https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x");
        }
        serde_json::to_vec(&v).unwrap()
    }

    fn sns(kind: &str, body: &[u8]) -> Result<Outcome, FieldError> {
        let h = headers(&[
            ("x-amz-sns-message-type", kind),
            ("x-amz-sns-topic-arn", TOPIC),
            (
                "x-amz-sns-message-id",
                "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
            ),
        ]);
        parse(&request(&h, "text/plain", None), body)
    }

    fn fixed(name: &str) -> String {
        fixture_text(name).replace(SHORT, FULL)
    }

    #[test]
    fn push_is_a_push_on_the_account_registry() {
        let (items, ignored) = parsed(bare(fixed("ecr-eventbridge-push.json").as_bytes()).unwrap());
        let [InboxBody::Push(p)] = items.as_slice() else {
            panic!("{items:?}")
        };
        assert_eq!(ignored, 0);
        assert_eq!(p.registry, HOST);
        assert_eq!(p.repository, "my-repository-name");
        assert_eq!(p.tag.as_deref(), Some("latest"));
        assert_eq!(p.digest, FULL);
        assert_eq!(p.key, "ecr:13cde686-328b-6117-af20-0e5566167482");
        assert_eq!(p.actor, "ecr");
        assert_eq!(p.source, "ecr");
        assert_eq!(
            p.occurred_at,
            Utc.with_ymd_and_hms(2019, 11, 16, 1, 54, 34).unwrap()
        );
    }

    #[test]
    fn the_documented_digests_are_refused_by_name() {
        for f in ["ecr-eventbridge-push.json", "ecr-eventbridge-delete.json"] {
            let e = bare(&fixture(f)).unwrap_err();
            assert_eq!(e.field, "detail.image-digest", "{f}");
            assert!(e.reason.contains("is not a sha256"), "{f}: {}", e.reason);
            let e = sns("Notification", &sns_body("Notification", &fixture_text(f))).unwrap_err();
            assert_eq!(e.field, "Message.detail.image-digest", "{f}");
        }
    }

    #[test]
    fn a_delete_naming_a_tag_removes_the_tag_else_the_manifest() {
        let body = fixed("ecr-eventbridge-delete.json");
        let (items, _) = parsed(bare(body.as_bytes()).unwrap());
        let [InboxBody::Delete(d)] = items.as_slice() else {
            panic!("{items:?}")
        };
        assert_eq!(
            (d.tag.as_deref(), d.digest.as_deref()),
            (Some("latest"), None)
        );
        assert_eq!(d.key, "ecr:dd3b46cb-2c74-f49e-393b-28286b67279d");
        assert_eq!(d.registry, HOST);
        let untagged = body.replace("\"image-tag\": \"latest\"", "\"image-tag\": \"\"");
        let (items, _) = parsed(bare(untagged.as_bytes()).unwrap());
        let [InboxBody::Delete(d)] = items.as_slice() else {
            panic!("{items:?}")
        };
        assert_eq!((d.tag.as_deref(), d.digest.as_deref()), (None, Some(FULL)));
    }

    #[test]
    fn captured_push_by_digest_is_ignored_and_its_media_type_read_when_tagged() {
        let body = fixture_text("ecr-eventbridge-push-by-digest-captured.json");
        let (items, ignored) = parsed(bare(body.as_bytes()).unwrap());
        assert!(items.is_empty());
        assert_eq!(ignored, 1);
        let tagged = body.replace("\"image-tag\": \"\"", "\"image-tag\": \"v1\"");
        let (items, _) = parsed(bare(tagged.as_bytes()).unwrap());
        let [InboxBody::Push(p)] = items.as_slice() else {
            panic!("{items:?}")
        };
        assert_eq!(p.registry, "123456789012.dkr.ecr.us-east-1.amazonaws.com");
        assert_eq!(
            p.media_type.as_deref(),
            Some("application/vnd.oci.image.manifest.v1+json")
        );
    }

    #[test]
    fn sns_and_api_destination_deliveries_of_one_event_are_one() {
        let event = fixed("ecr-eventbridge-push.json");
        let direct = parsed(bare(event.as_bytes()).unwrap()).0;
        let wrapped = parsed(sns("Notification", &sns_body("Notification", &event)).unwrap()).0;
        // Raw message delivery: the SNS headers, the event as the body.
        let raw = parsed(sns("Notification", event.as_bytes()).unwrap()).0;
        assert_eq!(direct, wrapped);
        assert_eq!(direct, raw);
        assert_eq!(direct[0].key(), "ecr:13cde686-328b-6117-af20-0e5566167482");
        // A replay is the same event.
        assert_eq!(direct, parsed(bare(event.as_bytes()).unwrap()).0);
    }

    #[test]
    fn sns_handshakes() {
        let confirm = sns(
            "SubscriptionConfirmation",
            &sns_body("SubscriptionConfirmation", "You have chosen to subscribe"),
        )
        .unwrap();
        let Outcome::SnsConfirm { topic_arn, token } = confirm else {
            panic!("{confirm:?}")
        };
        assert_eq!(topic_arn, TOPIC);
        assert_eq!(token, "2336412f37fb687f5d51e6e2425f004ae");
        let body = sns_body("UnsubscribeConfirmation", "You have chosen to deactivate");
        assert_eq!(parsed(sns("UnsubscribeConfirmation", &body).unwrap()).1, 1);

        let bad = String::from_utf8(sns_body("SubscriptionConfirmation", "x"))
            .unwrap()
            .replace(TOPIC, "https://evil.example/");
        let h = headers(&[("x-amz-sns-message-type", "SubscriptionConfirmation")]);
        let e = parse(&request(&h, "text/plain", None), bad.as_bytes()).unwrap_err();
        assert_eq!(e.field, "TopicArn");
        // The header and the body must agree.
        let e = sns("Notification", &sns_body("SubscriptionConfirmation", "x")).unwrap_err();
        assert_eq!(e.field, "Type");
        let e = sns("Other", &sns_body("Other", "x")).unwrap_err();
        assert_eq!(e.field, "x-amz-sns-message-type");
    }

    #[test]
    fn topic_and_endpoint() {
        let body = sns_body("Notification", "{}");
        let h = headers(&[("x-amz-sns-message-type", "Notification")]);
        assert_eq!(
            sns_topic(&request(&h, "text/plain", None), &body).as_deref(),
            Some(TOPIC)
        );
        let none = headers(&[]);
        assert_eq!(
            sns_topic(&request(&none, "application/json", None), &body),
            None
        );
        assert_eq!(
            sns_endpoint(TOPIC).as_deref(),
            Some("https://sns.us-west-2.amazonaws.com")
        );
        assert_eq!(
            sns_endpoint("arn:aws-cn:sns:cn-north-1:123456789012:t").as_deref(),
            Some("https://sns.cn-north-1.amazonaws.com.cn")
        );
        for bad in [
            "arn:aws:sns:us-west-2:123456789012",
            "arn:aws:sqs:us-west-2:123456789012:t",
            "arn:aws:sns:evil.example/x:123456789012:t",
            "arn:aws:sns:us-west-2:12345:t",
        ] {
            assert_eq!(sns_endpoint(bad), None, "{bad}");
        }
    }

    #[test]
    fn events_the_catalog_does_not_care_about_are_counted() {
        let push = fixed("ecr-eventbridge-push.json");
        for (from, to) in [
            ("\"PUSH\"", "\"UPDATE_STORAGE_CLASS\""),
            ("\"SUCCESS\"", "\"FAILURE\""),
            ("\"ECR Image Action\"", "\"ECR Image Scan\""),
            ("\"aws.ecr\"", "\"aws.s3\""),
        ] {
            let (items, ignored) = parsed(bare(push.replace(from, to).as_bytes()).unwrap());
            assert!(items.is_empty(), "{to}");
            assert_eq!(ignored, 1, "{to}");
        }
    }

    #[test]
    fn bad_input_names_the_field() {
        assert_eq!(bare(b"{").unwrap_err().field, "body");
        let e = sns("Notification", &sns_body("Notification", "{")).unwrap_err();
        assert_eq!(e.field, "Message");
        let push = fixed("ecr-eventbridge-push.json");
        for (from, to, field) in [
            (
                "\"my-repository-name\"",
                "\"My Repo\"",
                "detail.repository-name",
            ),
            ("\"latest\"", "\"-bad\"", "detail.image-tag"),
            ("\"123456789012\"", "\"1234\"", "account"),
            ("\"us-west-2\"", "\"us/west\"", "region"),
            ("\"2019-11-16T01:54:34Z\"", "\"yesterday\"", "time"),
            (
                "\"id\": \"13cde686-328b-6117-af20-0e5566167482\",",
                "",
                "id",
            ),
        ] {
            let e = bare(push.replace(from, to).as_bytes()).unwrap_err();
            assert_eq!(e.field, field, "{to}");
        }
    }

    #[test]
    fn china_regions_have_their_own_domain() {
        let body = fixed("ecr-eventbridge-push.json").replace("us-west-2", "cn-north-1");
        let (items, _) = parsed(bare(body.as_bytes()).unwrap());
        let [InboxBody::Push(p)] = items.as_slice() else {
            panic!("{items:?}")
        };
        assert_eq!(
            p.registry,
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn verify_reads_the_sns_url_password_or_a_bearer() {
        let basic = |user_pass: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(user_pass)
            )
        };
        let body = b"{}";
        for (auth, ok) in [
            (basic("ecr:s3cret"), true),
            (basic("anyone:s3cret"), true),
            ("Bearer s3cret".to_string(), true),
            (basic("ecr:s3cret!"), false),
            (basic("s3cret"), false),
            ("Bearer wrong".to_string(), false),
            ("Token s3cret".to_string(), false),
        ] {
            let h = headers(&[("Authorization", &auth)]);
            assert_eq!(
                verify(b"s3cret", &request(&h, "text/plain", None), body).is_ok(),
                ok,
                "{auth}"
            );
        }
        let h = headers(&[]);
        assert!(verify(b"s3cret", &request(&h, "text/plain", None), body).is_err());
    }
}
