//! An actix server on a background thread, as the fakes (fake-koji, fake-bugzilla) run in tests
//! and benchmarks: it serves until dropped, and dropping it stops it and waits for the thread.

use std::net::TcpListener;

use actix_web::{App, HttpServer, web};

pub struct BackgroundServer {
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackgroundServer {
    /// Serves the app that `configure` sets up, with one worker, on `listener`.
    pub fn start<F>(name: &str, listener: TcpListener, configure: F) -> anyhow::Result<Self>
    where
        F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
    {
        let (sender, receiver) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let system = actix_web::rt::System::new();
                system.block_on(async move {
                    let server = HttpServer::new(move || App::new().configure(configure.clone()))
                        .workers(1)
                        .disable_signals()
                        .listen(listener);
                    match server {
                        Ok(server) => {
                            let server = server.run();
                            let _ = sender.send(Ok(server.handle()));
                            let _ = server.await;
                        }
                        Err(e) => {
                            let _ = sender.send(Err(e));
                        }
                    }
                });
            })?;
        let handle = receiver.recv()??;
        Ok(BackgroundServer {
            handle,
            thread: Some(thread),
        })
    }
}

impl Drop for BackgroundServer {
    fn drop(&mut self) {
        // The stop command is sent at once; the server thread finishes the shutdown.
        drop(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
