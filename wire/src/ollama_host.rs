//! `OLLAMA_HOST` as Ollama itself reads it (`envconfig.Host`), so the mock listens, and the gateway
//! connects, where a user with that variable set expects.

/// Where an Ollama server is (or should listen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OllamaHost {
    /// `http` or `https`.
    pub scheme: String,
    /// Host name or IP; empty means every interface (Go's `:port`).
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl Default for OllamaHost {
    fn default() -> Self {
        Self {
            scheme: "http".to_owned(),
            host: "127.0.0.1".to_owned(),
            port: 11434,
        }
    }
}

impl OllamaHost {
    /// Parses a value like `0.0.0.0`, `:8080`, `localhost:11434`, `https://example:443/`, `[::1]:9`.
    /// Blank means the default `http://127.0.0.1:11434`; a bad port falls back to the default
    /// address, as Ollama does.
    pub fn parse(value: &str) -> Self {
        let value = value.trim();
        let (scheme, rest, default_port) = match value.split_once("://") {
            None => ("http", value, 11434),
            Some(("https", rest)) => ("https", rest, 443),
            Some(("http", rest)) => ("http", rest, 80),
            Some((scheme, rest)) => (scheme, rest, 11434),
        };
        let hostport = rest.split('/').next().unwrap_or_default();
        let fallback = |host: &str| Self {
            scheme: scheme.to_owned(),
            host: host.to_owned(),
            port: default_port,
        };
        let Some((host, port)) = split_host_port(hostport) else {
            let host = hostport.trim_start_matches('[').trim_end_matches(']');
            return fallback(if host.is_empty() { "127.0.0.1" } else { host });
        };
        match port.parse::<u16>() {
            Ok(port) => Self {
                scheme: scheme.to_owned(),
                host: host.to_owned(),
                port,
            },
            Err(_) => fallback("127.0.0.1"),
        }
    }

    /// `host:port` for binding; an empty host binds every interface.
    pub fn bind_address(&self) -> String {
        let host = if self.host.is_empty() {
            "0.0.0.0"
        } else {
            &self.host
        };
        join(host, self.port)
    }

    /// `scheme://host:port` for clients; an empty host means this machine.
    pub fn base_url(&self) -> String {
        let host = if self.host.is_empty() || self.host == "0.0.0.0" {
            "127.0.0.1"
        } else {
            &self.host
        };
        format!("{}://{}", self.scheme, join(host, self.port))
    }
}

fn join(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Go's `net.SplitHostPort`, for the cases that matter here.
fn split_host_port(hostport: &str) -> Option<(&str, &str)> {
    if let Some(rest) = hostport.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return Some((host, after.strip_prefix(':')?));
    }
    let (host, port) = hostport.rsplit_once(':')?;
    if host.contains(':') {
        return None;
    }
    Some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_ollama() {
        let cases = [
            ("", "127.0.0.1:11434", "http://127.0.0.1:11434"),
            ("0.0.0.0", "0.0.0.0:11434", "http://127.0.0.1:11434"),
            (":8080", "0.0.0.0:8080", "http://127.0.0.1:8080"),
            ("localhost:9999", "localhost:9999", "http://localhost:9999"),
            ("http://10.0.0.5", "10.0.0.5:80", "http://10.0.0.5:80"),
            (
                "https://ollama.internal/",
                "ollama.internal:443",
                "https://ollama.internal:443",
            ),
            ("[::1]:7000", "[::1]:7000", "http://[::1]:7000"),
            ("::1", "[::1]:11434", "http://[::1]:11434"),
            (
                "example:notaport",
                "127.0.0.1:11434",
                "http://127.0.0.1:11434",
            ),
        ];
        for (input, bind, url) in cases {
            let host = OllamaHost::parse(input);
            assert_eq!(host.bind_address(), bind, "{input}");
            assert_eq!(host.base_url(), url, "{input}");
        }
    }
}
