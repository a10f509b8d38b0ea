//! Running the server: stdio (what `.mcp.json` starts) or streamable HTTP on
//! a loopback address, logs to stderr only.
//!
//! In stdio mode stdout carries JSON-RPC and nothing else, so logging goes to
//! stderr, filtered by `INFRAGUARD_LOG` (default `warn`). The HTTP server
//! takes its listener as an argument, so tests can bind `127.0.0.1:0`. Both
//! transports put [`crate::wire`]'s checks in front of rmcp, so a malformed
//! message gets a JSON-RPC error reply.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use infraguard_engine::env_vars::INFRAGUARD_LOG;
use rmcp::ServiceExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use crate::error::McpError;
use crate::server::InfraguardServer;
use crate::wire::{WireTransport, check_http_body};

/// Where the server talks to its client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport {
    Stdio,
    /// Streamable HTTP at `http://ADDR/mcp`.
    Http(SocketAddr),
}

/// Path of the MCP endpoint on the HTTP server.
pub const HTTP_PATH: &str = "/mcp";

/// Parse `--http ADDR`, refusing anything but a loopback address: the
/// server has no authentication, so it must not be reachable from elsewhere.
pub fn loopback_addr(text: &str) -> Result<SocketAddr, McpError> {
    let text = text.trim();
    let addr = match text.parse::<SocketAddr>() {
        Ok(a) => a,
        Err(_) => match text.rsplit_once(':') {
            Some(("localhost", port)) => {
                let port: u16 = port
                    .parse()
                    .map_err(|_| McpError::BadAddress { addr: text.into() })?;
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)
            }
            Some((host, _)) if host.parse::<IpAddr>().is_err() && !host.is_empty() => {
                return Err(McpError::NotLoopback { addr: text.into() });
            }
            _ => return Err(McpError::BadAddress { addr: text.into() }),
        },
    };
    if !addr.ip().is_loopback() {
        return Err(McpError::NotLoopback { addr: text.into() });
    }
    Ok(addr)
}

/// Log to stderr with the level from `INFRAGUARD_LOG`, never printing a
/// message's content (see [`crate::log`]). Safe to call twice.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env(INFRAGUARD_LOG)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    crate::log::init(filter);
}

/// Stdin and stdout through [`WireTransport`], which answers malformed
/// lines itself instead of dropping them as rmcp's own stdio transport does.
fn stdio_transport() -> WireTransport<tokio::io::Stdout> {
    let (stdin, stdout) = rmcp::transport::stdio();
    WireTransport::new(stdin, stdout)
}

/// Serve over stdin/stdout until the client closes the connection.
pub async fn serve_stdio(server: InfraguardServer) -> Result<(), McpError> {
    let running = server
        .serve(stdio_transport())
        .await
        .map_err(|e| McpError::Transport(format!("the stdio session did not start: {e}")))?;
    running
        .waiting()
        .await
        .map_err(|e| McpError::Transport(format!("the stdio session ended abnormally: {e}")))?;
    Ok(())
}

/// Serve streamable HTTP on `listener` (at [`HTTP_PATH`]) until `shutdown`
/// completes.
pub async fn serve_http(
    server: InfraguardServer,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), McpError> {
    let config = StreamableHttpServerConfig::default();
    // Cancelling it ends open SSE streams, so shutdown does not wait on them.
    let sessions = config.cancellation_token.clone();
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        LocalSessionManager::default().into(),
        config,
    );
    let router = axum::Router::new()
        .nest_service(HTTP_PATH, service)
        // rmcp answers an unreadable body with 415 and plain text.
        .layer(axum::middleware::from_fn(check_http_body));
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown.await;
            sessions.cancel();
        })
        .await
        .map_err(|e| McpError::Transport(format!("the HTTP server failed: {e}")))
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Build a runtime and serve until the client leaves (stdio) or a signal
/// arrives (HTTP). The entry point of `infraguard serve`.
pub fn run(server: InfraguardServer, transport: Transport) -> Result<(), McpError> {
    init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        // The engine's work runs on the blocking pool; two workers carry the protocol.
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| McpError::Transport(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async move {
        match transport {
            Transport::Stdio => serve_stdio(server).await,
            Transport::Http(addr) => {
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|source| McpError::Bind { addr, source })?;
                let local = listener.local_addr().unwrap_or(addr);
                tracing::warn!("infraguard MCP server listening on http://{local}{HTTP_PATH}");
                serve_http(server, listener, shutdown_signal()).await
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_addresses_are_accepted() {
        assert_eq!(loopback_addr("127.0.0.1:8765").unwrap().port(), 8765);
        assert!(loopback_addr("[::1]:9000").unwrap().ip().is_loopback());
        assert_eq!(
            loopback_addr("localhost:7000").unwrap(),
            "127.0.0.1:7000".parse().unwrap()
        );
    }

    #[test]
    fn other_addresses_are_refused_with_the_fix() {
        for bad in ["0.0.0.0:8765", "192.168.1.4:80", "example.com:80", "[::]:1"] {
            let err = loopback_addr(bad).unwrap_err().to_string();
            assert!(
                err.contains("loopback") && err.contains(bad),
                "{bad}: {err}"
            );
        }
        let err = loopback_addr("8765").unwrap_err().to_string();
        assert!(err.contains("HOST:PORT"), "{err}");
    }
}
