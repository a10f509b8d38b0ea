//! Live prices over the wire: `AwsPriceList` against a loopback stub that
//! answers the awsJson 1.1 call `AWSPriceListService.GetProducts` in the
//! shape AWS documents (`FormatVersion`, `PriceList` as JSON documents in
//! strings, `NextToken`). No emulator serves the Price List API — moto has
//! none, fakecloud neither — so the stub is written here, and nothing in
//! these tests leaves 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use infraguard_cloud_aws::ConnectOptions;
use infraguard_cloud_aws::pricing::{AwsPriceList, PRICING_SERVICE_ID, live_prices_with};
use infraguard_core::{Money, ResourceType};
use infraguard_cost::live::SOURCE_PRICE_LIST;
use infraguard_cost::{PriceListClient, estimate_with, parse_usage_arg};
use serde_json::{Value, json};

/// One request the stub received.
#[derive(Clone, Debug)]
struct Seen {
    target: String,
    content_type: String,
    authorization: String,
    body: Value,
}

/// A loopback HTTP server answering each request with `answer(body)`
/// (status, JSON text), one request per connection.
struct Stub {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    connections: Arc<AtomicUsize>,
}

impl Stub {
    fn start(answer: impl Fn(&Value) -> Option<(u16, String)> + Send + 'static) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let (seen_t, connections_t) = (Arc::clone(&seen), Arc::clone(&connections));
        // Detached: the thread ends with the test process.
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                connections_t.fetch_add(1, Ordering::SeqCst);
                if let Some(request) = read_request(&stream) {
                    let reply = answer(&request.body);
                    seen_t.lock().expect("seen").push(request);
                    // `None`: drop the connection without a reply.
                    if let Some((status, body)) = reply {
                        write_reply(stream, status, &body);
                    }
                }
            }
        });
        Stub {
            url,
            seen,
            connections,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("seen").clone()
    }
}

fn read_request(stream: &TcpStream) -> Option<Seen> {
    let mut reader = BufReader::new(stream);
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end().to_string();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let length: usize = header("content-length").parse().ok()?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Seen {
        target: header("x-amz-target"),
        content_type: header("content-type"),
        authorization: header("authorization"),
        body: serde_json::from_slice(&body).ok()?,
    })
}

fn write_reply(mut stream: TcpStream, status: u16, body: &str) {
    let reason = if status == 200 { "OK" } else { "Bad Request" };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/x-amz-json-1.1\r\nx-amzn-requestid: 00000000-0000-0000-0000-000000000001\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    // A client that hung up has no use for the reply.
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
}

/// S3 Standard storage in eu-west-1 as one PriceList entry: one SKU, one
/// OnDemand term, the three volume tiers as AWS lists them (GB-Mo, ranges
/// in GB). The prices are this test's own, chosen to differ from the
/// catalog's so the estimate shows which one it used.
fn s3_standard_storage_product() -> String {
    let sku = "WP9ANXZGBYYSGJEA";
    let term = format!("{sku}.JRTCKXETXF");
    let tier = |rate: &str, begin: &str, end: &str, usd: &str, text: &str| {
        (
            format!("{term}.{rate}"),
            json!({
                "rateCode": format!("{term}.{rate}"),
                "description": text,
                "beginRange": begin,
                "endRange": end,
                "unit": "GB-Mo",
                "pricePerUnit": {"USD": usd},
                "appliesTo": []
            }),
        )
    };
    let dimensions: serde_json::Map<String, Value> = [
        tier(
            "PGHJ3S3EYE",
            "0",
            "51200",
            "0.0311000000",
            "$0.0311 per GB - first 50 TB / month of storage used",
        ),
        tier(
            "D42MF2PVJS",
            "51200",
            "512000",
            "0.0298000000",
            "$0.0298 per GB - next 450 TB / month of storage used",
        ),
        tier(
            "7EC3N2JNAR",
            "512000",
            "Inf",
            "0.0285000000",
            "$0.0285 per GB - storage used / month over 500 TB",
        ),
    ]
    .into_iter()
    .collect();
    json!({
        "product": {
            "productFamily": "Storage",
            "attributes": {
                "regionCode": "eu-west-1",
                "servicecode": "AmazonS3",
                "location": "EU (Ireland)",
                "locationType": "AWS Region",
                "storageClass": "General Purpose",
                "volumeType": "Standard",
                "usagetype": "EU-TimedStorage-ByteHrs",
                "operation": "",
                "servicename": "Amazon Simple Storage Service"
            },
            "sku": sku
        },
        "serviceCode": "AmazonS3",
        "terms": {
            "OnDemand": {
                term.clone(): {
                    "priceDimensions": dimensions,
                    "sku": sku,
                    "effectiveDate": "2026-11-01T00:00:00Z",
                    "offerTermCode": "JRTCKXETXF",
                    "termAttributes": {}
                }
            }
        },
        "version": "20261101000000",
        "publicationDate": "2026-11-01T00:00:00Z"
    })
    .to_string()
}

/// A GetProducts reply body.
fn page(documents: &[String], next_token: Option<&str>) -> String {
    let mut reply = json!({"FormatVersion": "aws_v1", "PriceList": documents});
    if let Some(token) = next_token {
        reply["NextToken"] = json!(token);
    }
    reply.to_string()
}

/// The filter value of `field` in a recorded request.
fn filter(body: &Value, field: &str) -> Option<String> {
    body["Filters"]
        .as_array()?
        .iter()
        .find(|f| f["Field"] == field)
        .and_then(|f| f["Value"].as_str())
        .map(str::to_string)
}

fn storage_filters() -> Vec<(&'static str, String)> {
    vec![
        ("productFamily", "Storage".to_string()),
        ("volumeType", "Standard".to_string()),
        ("regionCode", "eu-west-1".to_string()),
    ]
}

fn options(endpoint: &str) -> ConnectOptions {
    ConnectOptions::for_emulator("dev", "eu-west-1", endpoint)
}

/// An address nothing listens on (bound, then released).
fn closed_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    url
}

fn bucket() -> ResourceType {
    ResourceType::new("AWS::S3::Bucket").expect("type")
}

#[test]
fn get_products_sends_term_match_filters_and_reads_every_page() {
    let stub = Stub::start(|body| {
        let doc = s3_standard_storage_product();
        Some(match body.get("NextToken").and_then(Value::as_str) {
            None => (200, page(&[doc], Some("page-2"))),
            Some("page-2") => (200, page(&[doc], None)),
            Some(other) => (
                400,
                json!({"__type": "InvalidNextTokenException", "message": other}).to_string(),
            ),
        })
    });
    let client = AwsPriceList::connect_with(&options(&stub.url)).expect("client");
    let products = client
        .get_products("AmazonS3", &storage_filters())
        .expect("GetProducts");
    assert_eq!(products.len(), 2, "one entry from each page");
    assert_eq!(client.calls(), 2);

    let seen = stub.seen();
    assert_eq!(seen.len(), 2);
    let first = &seen[0];
    assert_eq!(first.target, "AWSPriceListService.GetProducts");
    assert_eq!(first.content_type, "application/x-amz-json-1.1");
    // Signed for the Price List endpoint nearest eu-west-1, not eu-west-1.
    assert!(
        first
            .authorization
            .contains("/eu-central-1/pricing/aws4_request"),
        "{}",
        first.authorization
    );
    assert_eq!(first.body["ServiceCode"], "AmazonS3");
    assert_eq!(first.body["FormatVersion"], "aws_v1");
    assert_eq!(
        first.body["Filters"],
        json!([
            {"Type": "TERM_MATCH", "Field": "productFamily", "Value": "Storage"},
            {"Type": "TERM_MATCH", "Field": "volumeType", "Value": "Standard"},
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "eu-west-1"}
        ])
    );
    assert!(first.body.get("NextToken").is_none());
    assert_eq!(seen[1].body["NextToken"], "page-2");
    assert_eq!(seen[1].body["Filters"], first.body["Filters"]);

    // The same query again is answered from memory.
    let again = client
        .get_products("AmazonS3", &storage_filters())
        .expect("again");
    assert_eq!(again, products);
    assert_eq!(stub.seen().len(), 2);
}

#[test]
fn an_estimate_uses_the_live_storage_price_and_says_so() {
    let stub = Stub::start(|body| {
        let storage = filter(body, "productFamily").as_deref() == Some("Storage")
            && filter(body, "volumeType").as_deref() == Some("Standard")
            && filter(body, "regionCode").as_deref() == Some("eu-west-1");
        // Only the storage price is on offer; request prices find nothing
        // and stay with the catalog.
        let documents = if storage {
            vec![s3_standard_storage_product()]
        } else {
            Vec::new()
        };
        Some((200, page(&documents, None)))
    });
    let source = live_prices_with(&options(&stub.url), "2026-11-26").expect("source");
    let usage = parse_usage_arg("storage_gb=100,monthly_put_requests=10000,monthly_get_requests=0")
        .expect("usage");

    let started = Instant::now();
    let live = estimate_with(Some(&*source), &bucket(), &json!({}), "eu-west-1", &usage)
        .expect("live estimate");
    eprintln!(
        "estimate with live prices from a loopback Price List stub took {:?}",
        started.elapsed()
    );
    let catalog =
        estimate_with(None, &bucket(), &json!({}), "eu-west-1", &usage).expect("catalog estimate");

    let storage = live
        .breakdown
        .iter()
        .find(|c| c.name.starts_with("Storage"))
        .expect("storage component");
    assert_eq!(storage.price, Money::parse("0.0311").expect("money"));
    assert_eq!(storage.monthly_cost, Money::parse("3.11").expect("money"));
    let catalog_storage = catalog
        .breakdown
        .iter()
        .find(|c| c.name.starts_with("Storage"))
        .expect("catalog storage component");
    assert_ne!(catalog_storage.price, storage.price);
    // Requests kept the catalog's price.
    let put = |e: &infraguard_core::CostEstimate| {
        e.breakdown
            .iter()
            .find(|c| c.name.starts_with("PUT"))
            .map(|c| (c.price, c.monthly_cost))
    };
    assert_eq!(put(&live), put(&catalog));
    assert!(put(&live).is_some());

    let note = live
        .notes
        .iter()
        .find(|n| n.contains(SOURCE_PRICE_LIST))
        .unwrap_or_else(|| panic!("no live-price note in {:?}", live.notes));
    assert!(note.contains("s3.storage.standard.first_50tb"), "{note}");
    assert!(!note.contains("s3.requests.put"), "{note}");
    assert!(
        !catalog.notes.iter().any(|n| n.contains(SOURCE_PRICE_LIST)),
        "{:?}",
        catalog.notes
    );

    // Every request asked about eu-west-1 prices; the storage query went out
    // once although three tier keys share it, and a second estimate sends
    // nothing.
    let seen = stub.seen();
    assert!(
        seen.iter()
            .all(|s| filter(&s.body, "regionCode").as_deref() == Some("eu-west-1")),
        "{seen:?}"
    );
    let storage_queries = seen
        .iter()
        .filter(|s| filter(&s.body, "productFamily").as_deref() == Some("Storage"))
        .count();
    assert_eq!(storage_queries, 1, "{seen:?}");
    let before = seen.len();
    let again = estimate_with(Some(&*source), &bucket(), &json!({}), "eu-west-1", &usage)
        .expect("second estimate");
    assert_eq!(again.monthly_usd, live.monthly_usd);
    assert_eq!(stub.seen().len(), before);
}

#[test]
fn an_unreachable_endpoint_leaves_the_catalog_prices() {
    let source = live_prices_with(&options(&closed_endpoint()), "2026-11-26").expect("source");
    let usage = parse_usage_arg("storage_gb=100,monthly_put_requests=10000,monthly_get_requests=0")
        .expect("usage");
    let started = Instant::now();
    let live = estimate_with(Some(&*source), &bucket(), &json!({}), "eu-west-1", &usage)
        .expect("the estimate is still made");
    let elapsed = started.elapsed();
    let catalog = estimate_with(None, &bucket(), &json!({}), "eu-west-1", &usage).expect("catalog");
    assert_eq!(live.monthly_usd, catalog.monthly_usd);
    assert_eq!(live.breakdown, catalog.breakdown);
    assert_eq!(live.notes, catalog.notes);
    assert!(live.monthly_usd > Money::parse("0").expect("money"));
    eprintln!("estimate with an unreachable Price List endpoint took {elapsed:?}");
}

#[test]
fn a_dropped_connection_stops_further_queries() {
    // Accepts, reads the request, and hangs up without a reply.
    let stub = Stub::start(|_| None);
    let client = AwsPriceList::connect_with(&options(&stub.url)).expect("client");
    let first = client
        .get_products("AmazonS3", &storage_filters())
        .unwrap_err();
    assert!(first.contains("pricing:GetProducts AmazonS3"), "{first}");
    let second = client
        .get_products("AWSLambda", &[("group", "AWS-Lambda-Requests".to_string())])
        .unwrap_err();
    assert!(second.starts_with("not asked again after:"), "{second}");
    assert_eq!(stub.connections.load(Ordering::SeqCst), 1);
}

#[test]
fn access_denied_names_the_permission_and_is_not_retried_per_key() {
    let stub = Stub::start(|_| {
        Some((
            400,
            json!({
                "__type": "AccessDeniedException",
                "message": "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: pricing:GetProducts"
            })
            .to_string(),
        ))
    });
    let client = AwsPriceList::connect_with(&options(&stub.url)).expect("client");
    let err = client
        .get_products("AmazonS3", &storage_filters())
        .unwrap_err();
    assert!(err.contains("AccessDeniedException"), "{err}");
    assert!(err.contains("allow pricing:GetProducts"), "{err}");
    assert!(
        client
            .get_products("AmazonRDS", &[("instanceType", "db.t3.micro".to_string())])
            .is_err()
    );
    assert_eq!(stub.seen().len(), 1);
}

#[test]
fn a_service_error_that_may_pass_does_not_stop_other_queries() {
    let stub = Stub::start(|body| {
        Some(if body["ServiceCode"] == "AmazonS3" {
            (
                400,
                json!({"__type": "InvalidParameterException", "message": "bad filter"}).to_string(),
            )
        } else {
            (200, page(&[], None))
        })
    });
    let client = AwsPriceList::connect_with(&options(&stub.url)).expect("client");
    let err = client
        .get_products("AmazonS3", &storage_filters())
        .unwrap_err();
    assert!(
        err.contains("InvalidParameterException: bad filter"),
        "{err}"
    );
    let lambda = client
        .get_products("AWSLambda", &[("group", "AWS-Lambda-Requests".to_string())])
        .expect("other queries still go out");
    assert!(lambda.is_empty());
    assert_eq!(stub.seen().len(), 2);
}

#[test]
fn the_pricing_endpoint_option_goes_over_the_shared_one() {
    let stub = Stub::start(|_| Some((200, page(&[s3_standard_storage_product()], None))));
    let mut options = options(&closed_endpoint());
    options
        .service_endpoints
        .insert(PRICING_SERVICE_ID.to_string(), stub.url.clone());
    let client = AwsPriceList::connect_with(&options).expect("client");
    let products = client
        .get_products("AmazonS3", &storage_filters())
        .expect("sent to the pricing endpoint");
    assert_eq!(products.len(), 1);
    assert_eq!(stub.seen().len(), 1);
}

/// Run by `aws_endpoint_url_pricing_is_honoured` in a child process whose
/// environment carries the variable (setting variables in this process
/// would race the other tests).
#[test]
#[ignore = "run as a child process by aws_endpoint_url_pricing_is_honoured"]
fn child_reads_aws_endpoint_url_pricing() {
    let mut options = options("http://unused.invalid");
    options.endpoint_url = None;
    let client = AwsPriceList::connect_with(&options).expect("client");
    let products = client
        .get_products("AmazonS3", &storage_filters())
        .expect("sent to AWS_ENDPOINT_URL_PRICING");
    assert_eq!(products.len(), 1);
}

#[test]
fn aws_endpoint_url_pricing_is_honoured() {
    let stub = Stub::start(|_| Some((200, page(&[s3_standard_storage_product()], None))));
    let exe = std::env::current_exe().expect("test binary");
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "child_reads_aws_endpoint_url_pricing",
            "--include-ignored",
        ])
        .env("AWS_ENDPOINT_URL_PRICING", &stub.url)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stub.seen().len(), 1);
}
