//! The HTTP side: Koji's transport rules (POST only, faults as HTTP 200, `Koji-Version` on
//! every reply, 400 for an empty or unreadable body) and a way to run the hub on a background
//! thread for tests.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

use super::hub::{Hub, HubConfig, KOJI_VERSION, SessionHeaders};
use crate::loopback::BackgroundServer;
use crate::xmlrpc;

/// Multicalls of a whole compose can be large.
const MAX_BODY: usize = 64 * 1024 * 1024;

async fn xmlrpc_endpoint(
    hub: web::Data<Hub>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    if request.method() != actix_web::http::Method::POST {
        return plain(
            HttpResponse::MethodNotAllowed(),
            "This is an XML-RPC server. Only POST requests are accepted.",
        );
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return plain(HttpResponse::BadRequest(), "Invalid request: Empty request");
    }
    let call = match xmlrpc::parse_call(&body) {
        Ok(call) => call,
        Err(e) => return plain(HttpResponse::BadRequest(), &format!("Invalid request: {e}")),
    };
    let headers = session_headers(&request);
    let hub = hub.into_inner();
    let method = call.method.clone();
    let outcome = web::block(move || hub.handle(&headers, &call.method, call.params)).await;
    let body = match outcome {
        Ok(Ok(value)) => xmlrpc::encode_response(&value),
        Ok(Err(fault)) => xmlrpc::encode_fault(&fault),
        Err(e) => {
            tracing::error!(method, error = %e, "fake hub call panicked");
            xmlrpc::encode_fault(&xmlrpc::Fault::new(1, format!("<class 'Exception'>: {e}")))
        }
    };
    HttpResponse::Ok()
        .insert_header(("Koji-Version", KOJI_VERSION))
        .content_type("text/xml")
        .body(body)
}

fn plain(mut builder: actix_web::HttpResponseBuilder, text: &str) -> HttpResponse {
    builder
        .insert_header(("Koji-Version", KOJI_VERSION))
        .content_type("text/plain")
        .body(text.to_owned())
}

/// Session credentials from Koji's headers, or from the query string of old clients.
fn session_headers(request: &HttpRequest) -> SessionHeaders {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(request.query_string()).unwrap_or_default();
    let from_query = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    SessionHeaders {
        id: header("Koji-Session-Id").or_else(|| from_query("session-id")),
        key: header("Koji-Session-Key").or_else(|| from_query("session-key")),
        callnum: header("Koji-Session-Callnum")
            .or_else(|| header("Koji-Callnum"))
            .or_else(|| from_query("callnum")),
        remote_user: header("Remote-User"),
    }
}

/// The actix service: every path is the XML-RPC endpoint (`/kojihub`, `/kojihub/ssllogin`).
pub fn configure(hub: web::Data<Hub>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(hub)
            .app_data(web::PayloadConfig::new(MAX_BODY))
            .default_service(web::to(xmlrpc_endpoint));
    }
}

/// Serves the hub on `listener` until the process is stopped.
pub async fn serve(hub: Arc<Hub>, listener: TcpListener) -> std::io::Result<()> {
    let data = web::Data::from(hub);
    HttpServer::new(move || App::new().configure(configure(data.clone())))
        .workers(2)
        .listen(listener)?
        .run()
        .await
}

/// A hub running on a background thread, stopped when dropped.
pub struct RunningHub {
    pub hub: Arc<Hub>,
    pub addr: SocketAddr,
    _server: BackgroundServer,
}

impl RunningHub {
    /// Starts a hub on a free loopback port.
    pub fn start(config: HubConfig) -> anyhow::Result<Self> {
        let hub = Arc::new(Hub::new(config)?);
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let data = web::Data::from(hub.clone());
        let server = BackgroundServer::start("fake-koji", listener, move |cfg| {
            configure(data.clone())(cfg)
        })?;
        Ok(RunningHub {
            hub,
            addr,
            _server: server,
        })
    }

    /// The XML-RPC endpoint, as a Koji client's `server` setting.
    pub fn url(&self) -> String {
        format!("http://{}/kojihub", self.addr)
    }
}
