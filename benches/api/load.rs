//! The load generator: N threads, each with one keep-alive HTTP/1.1 connection, sending a
//! scenario's requests until its time is up and recording every latency.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;

/// One request to send: method, path (with query), bearer token and JSON body if any.
pub struct Request {
    pub method: &'static str,
    pub path: String,
    pub token: Option<String>,
    pub body: Option<String>,
    /// Ask for the page, as a browser does, rather than JSON.
    pub html: bool,
}

impl Request {
    pub fn get(path: String) -> Request {
        Request {
            method: "GET",
            path,
            token: None,
            body: None,
            html: false,
        }
    }

    /// A GET as a browser sends it.
    pub fn page(path: String) -> Request {
        Request {
            html: true,
            ..Request::get(path)
        }
    }

    fn encode(&self) -> Vec<u8> {
        let accept = if self.html {
            "text/html,application/xhtml+xml"
        } else {
            "application/json"
        };
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: {accept}\r\n",
            self.method, self.path
        );
        if let Some(token) = &self.token {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        let body = self.body.as_deref().unwrap_or("");
        if self.body.is_some() {
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body.as_bytes());
        bytes
    }
}

struct Connection {
    reader: BufReader<TcpStream>,
}

impl Connection {
    fn open(addr: SocketAddr) -> std::io::Result<Connection> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        Ok(Connection {
            reader: BufReader::new(stream),
        })
    }

    /// Sends one request and reads the whole response; returns the status and body length.
    fn send(&mut self, request: &[u8]) -> std::io::Result<(u16, usize)> {
        self.reader.get_mut().write_all(request)?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line: {line:?}")))?;
        let mut length = 0;
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        Ok((status, length))
    }
}

/// The latencies of one scenario.
pub struct Measured {
    pub latencies: Vec<Duration>,
    pub wall: Duration,
    pub bytes: usize,
}

impl Measured {
    pub fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let index =
            ((self.latencies.len() as f64 * p).ceil() as usize).clamp(1, self.latencies.len()) - 1;
        self.latencies[index]
    }

    pub fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64()
    }
}

/// Runs `connections` threads for `duration` (and at least `min_requests` requests in all),
/// each building its next request with `next`; any status but 200 stops the benchmark.
pub fn run<F>(
    addr: SocketAddr,
    connections: usize,
    duration: Duration,
    min_requests: usize,
    next: F,
) -> anyhow::Result<Measured>
where
    F: Fn(&mut StdRng) -> Request + Sync,
{
    let started = Instant::now();
    let per_thread_minimum = min_requests.div_ceil(connections);
    let results: Vec<anyhow::Result<(Vec<Duration>, usize)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..connections)
            .map(|n| {
                let next = &next;
                scope.spawn(move || -> anyhow::Result<(Vec<Duration>, usize)> {
                    let mut rng = StdRng::seed_from_u64(n as u64);
                    let mut connection = Connection::open(addr)?;
                    let mut latencies = Vec::new();
                    let mut bytes = 0;
                    while started.elapsed() < duration || latencies.len() < per_thread_minimum {
                        let request = next(&mut rng);
                        let encoded = request.encode();
                        let sent = Instant::now();
                        let (status, length) = connection.send(&encoded)?;
                        latencies.push(sent.elapsed());
                        bytes += length;
                        anyhow::ensure!(
                            status == 200,
                            "{} {} answered {status}",
                            request.method,
                            request.path
                        );
                    }
                    Ok((latencies, bytes))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a load thread panicked")))
            })
            .collect()
    });
    let wall = started.elapsed();
    let mut latencies = Vec::new();
    let mut bytes = 0;
    for result in results {
        let (mut l, b) = result?;
        latencies.append(&mut l);
        bytes += b;
    }
    latencies.sort();
    Ok(Measured {
        latencies,
        wall,
        bytes,
    })
}
