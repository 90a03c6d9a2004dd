//! The HTTP side of the fake Bugzilla: XML-RPC on POST (any path, `/xmlrpc.cgi` in practice),
//! faults as HTTP 200, 503 while it is set unavailable; and a way to run it on a background
//! thread for tests.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

use super::{BugzillaConfig, FakeBugzilla, RequestAuth};
use crate::loopback::BackgroundServer;
use crate::xmlrpc;

async fn xmlrpc_endpoint(
    bugzilla: web::Data<FakeBugzilla>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    if bugzilla.unavailable() {
        return HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("Bugzilla is down for maintenance.");
    }
    if request.method() != actix_web::http::Method::POST {
        return HttpResponse::MethodNotAllowed()
            .content_type("text/plain")
            .body("XML-RPC needs POST.");
    }
    let call = match xmlrpc::parse_call(&body) {
        Ok(call) => call,
        Err(e) => {
            return HttpResponse::BadRequest()
                .content_type("text/plain")
                .body(e.to_string());
        }
    };
    let auth = RequestAuth {
        bearer: request
            .headers()
            .get("Authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned),
    };
    let body = match bugzilla.handle(&auth, &call.method, &call.params) {
        Ok(value) => xmlrpc::encode_response(&value),
        Err(fault) => xmlrpc::encode_fault(&fault),
    };
    HttpResponse::Ok().content_type("text/xml").body(body)
}

pub fn configure(bugzilla: web::Data<FakeBugzilla>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(bugzilla)
            .default_service(web::to(xmlrpc_endpoint));
    }
}

/// Serves `bugzilla` on `listener` until the process is stopped.
pub async fn serve(bugzilla: Arc<FakeBugzilla>, listener: TcpListener) -> std::io::Result<()> {
    let data = web::Data::from(bugzilla);
    HttpServer::new(move || App::new().configure(configure(data.clone())))
        .workers(1)
        .listen(listener)?
        .run()
        .await
}

/// A fake Bugzilla on a background thread, stopped when dropped.
pub struct RunningBugzilla {
    pub bugzilla: Arc<FakeBugzilla>,
    pub addr: SocketAddr,
    _server: BackgroundServer,
}

impl RunningBugzilla {
    /// Starts one on a free loopback port.
    pub fn start(config: BugzillaConfig) -> anyhow::Result<RunningBugzilla> {
        let bugzilla = Arc::new(FakeBugzilla::new(config));
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let data = web::Data::from(bugzilla.clone());
        let server = BackgroundServer::start("fake-bugzilla", listener, move |cfg| {
            configure(data.clone())(cfg)
        })?;
        Ok(RunningBugzilla {
            bugzilla,
            addr,
            _server: server,
        })
    }

    /// The XML-RPC endpoint, as `bugzilla.url`.
    pub fn url(&self) -> String {
        format!("http://{}/xmlrpc.cgi", self.addr)
    }
}
