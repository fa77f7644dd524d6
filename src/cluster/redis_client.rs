//! The Redis client of the directory, built from the cluster's configuration: `redis://` or
//! `rediss://` (TLS through rustls, with the system's roots or `redis_ca_file`), and a
//! password from the URL or from `redis_password`. Only builds the client: connecting is
//! [`super::store::Store`]'s business. A password never appears in an error message.

use super::ClusterConfig;
use redis::{IntoConnectionInfo, TlsCertificates};

/// Why the directory's client could not be built; each message names the setting.
#[derive(Debug, thiserror::Error)]
pub enum RedisClientError {
    /// The URL does not parse.
    #[error("redis URL {url}: {reason}")]
    Url {
        /// The URL, password hidden.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// A CA file was given for a plain `redis://` URL.
    #[error("--redis-ca-file is for TLS: use a rediss:// URL, not {url}")]
    CaWithoutTls {
        /// The URL, password hidden.
        url: String,
    },
    /// The CA file cannot be read or used.
    #[error("redis CA file {path}: {reason}")]
    Ca {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// The client for `config.redis_url`, with `config.redis_password` and `config.redis_ca_file`.
pub fn client(config: &ClusterConfig) -> Result<redis::Client, RedisClientError> {
    let shown = redacted(&config.redis_url);
    let url_error =
        |e: redis::RedisError| RedisClientError::Url { url: shown.clone(), reason: e.to_string() };
    let mut info = config.redis_url.as_str().into_connection_info().map_err(url_error)?;
    if let Some(password) = &config.redis_password {
        let settings = info.redis_settings().clone().set_password(&password.0);
        info = info.set_redis_settings(settings);
    }
    let tls = config.redis_url.starts_with("rediss://");
    match &config.redis_ca_file {
        None => redis::Client::open(info).map_err(url_error),
        Some(_) if !tls => Err(RedisClientError::CaWithoutTls { url: shown.clone() }),
        Some(path) => {
            let ca_error =
                |reason: String| RedisClientError::Ca { path: path.display().to_string(), reason };
            let pem = std::fs::read(path).map_err(|e| ca_error(e.to_string()))?;
            let certificates = TlsCertificates { client_tls: None, root_cert: Some(pem) };
            redis::Client::build_with_tls(info, certificates).map_err(|e| ca_error(e.to_string()))
        }
    }
}

/// `url` with the password of its user info replaced by `***`.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{}", &rest[authority_end..])
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_hidden_in_what_is_shown() {
        assert_eq!(redacted("redis://:s3cret@h:6379/2"), "redis://:***@h:6379/2");
        assert_eq!(redacted("rediss://ada:pw@h"), "rediss://ada:***@h");
        assert_eq!(redacted("redis://h:6379"), "redis://h:6379");
    }

    #[test]
    fn a_ca_file_needs_tls_and_a_bad_url_is_named_without_its_password() {
        let mut config = ClusterConfig::new("redis://:pw@127.0.0.1:1", "ws://h:1");
        config.redis_ca_file = Some("/nonexistent.pem".into());
        let error = client(&config).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("use a rediss:// URL"), "{error}");
        assert!(!error.contains("pw@"), "{error}");
        config.redis_url = "rediss://127.0.0.1:1".into();
        let error = client(&config).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("/nonexistent.pem"), "{error}");
        config.redis_url = "http://:pw@127.0.0.1".into();
        config.redis_ca_file = None;
        let error = client(&config).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("redis URL http://:***@127.0.0.1"), "{error}");
    }
}
