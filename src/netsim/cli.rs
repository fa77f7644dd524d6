//! The `tickwire netsim` command: its flags, their parsers, and `main`.

use super::link::LinkConfig;
use super::proxy::{DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_IN_FLIGHT_BYTES, Netsim, NetsimConfig};
use clap::Args;
use std::net::SocketAddr;
use std::time::Duration;

/// Flags of `tickwire netsim`.
#[derive(Args, Debug, Clone)]
pub struct NetsimArgs {
    /// Where clients connect: open http://ADDR:PORT/ instead of the server's own address.
    #[arg(long, default_value = "127.0.0.1:8081", value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// The server, as host:port.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT", value_parser = parse_upstream)]
    pub upstream: String,
    /// One-way delay in each direction (so the round trip is twice this), e.g. 50ms.
    #[arg(long, default_value = "0ms", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub delay: Duration,
    /// Standard deviation of the normal jitter added per chunk in each direction. Never
    /// reorders: a chunk that would overtake the one before it waits for it.
    #[arg(long, default_value = "0ms", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub jitter: Duration,
    /// Client → server delay, instead of --delay.
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub up_delay: Option<Duration>,
    /// Server → client delay, instead of --delay.
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub down_delay: Option<Duration>,
    /// Client → server jitter, instead of --jitter.
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub up_jitter: Option<Duration>,
    /// Server → client jitter, instead of --jitter.
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub down_jitter: Option<Duration>,
    /// Bandwidth of each direction: bytes per second, or with a unit: 500kbit, 1mbit, 2MB,
    /// 64KiB (bit units count bits, B units bytes; k, M, G are powers of 1000). Default: unlimited.
    #[arg(long, value_parser = parse_bandwidth, value_name = "RATE")]
    pub bandwidth: Option<u64>,
    /// Client → server bandwidth, instead of --bandwidth.
    #[arg(long, value_parser = parse_bandwidth, value_name = "RATE")]
    pub up_bandwidth: Option<u64>,
    /// Server → client bandwidth, instead of --bandwidth.
    #[arg(long, value_parser = parse_bandwidth, value_name = "RATE")]
    pub down_bandwidth: Option<u64>,
    /// Probability (0 to 1) per chunk of a retransmission stall: that chunk and everything
    /// behind it in its direction are held for --stall more. Bytes are never dropped.
    #[arg(long, default_value_t = 0.0, value_parser = parse_probability, value_name = "P")]
    pub loss: f64,
    /// How long a "lost" chunk stalls its direction.
    #[arg(long, default_value = "200ms", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub stall: Duration,
    /// Seed of the jitter and loss draws, for a run that can be replayed. Default: random
    /// (and printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Connections proxied at once; one more is closed at once with a warning.
    #[arg(long, default_value_t = DEFAULT_MAX_CONNECTIONS, value_name = "COUNT")]
    pub max_connections: usize,
}

impl NetsimArgs {
    /// The proxy's configuration; draws a seed when none was given.
    pub fn config(&self) -> NetsimConfig {
        let link = |delay: Option<Duration>, jitter: Option<Duration>, bandwidth: Option<u64>| {
            LinkConfig {
                delay: delay.unwrap_or(self.delay),
                jitter: jitter.unwrap_or(self.jitter),
                bandwidth: bandwidth.or(self.bandwidth),
                loss: self.loss,
                stall: self.stall,
            }
        };
        NetsimConfig {
            listen: self.listen,
            upstream: self.upstream.clone(),
            up: link(self.up_delay, self.up_jitter, self.up_bandwidth),
            down: link(self.down_delay, self.down_jitter, self.down_bandwidth),
            seed: self.seed.unwrap_or_else(|| fastrand::u64(..)),
            max_connections: self.max_connections,
            max_in_flight_bytes: DEFAULT_MAX_IN_FLIGHT_BYTES,
        }
    }
}

/// Runs `tickwire netsim` until `shutdown` completes (the binary passes Ctrl-C or SIGTERM).
pub fn main(args: NetsimArgs, shutdown: impl Future<Output = ()>) -> Result<(), String> {
    let config = args.config();
    config.validate()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let netsim = Netsim::start(config.clone())
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        println!("{}", describe(&config, netsim.local_addr()));
        shutdown.await;
        netsim.shutdown().await;
        Ok(())
    })
}

/// The one stdout line: where to connect and what the link does.
pub fn describe(config: &NetsimConfig, addr: SocketAddr) -> String {
    format!(
        "netsim: http://{addr}/ and ws://{addr}/ws -> {}, up {}, down {}, seed {}",
        config.upstream,
        describe_link(&config.up),
        describe_link(&config.down),
        config.seed
    )
}

fn describe_link(link: &LinkConfig) -> String {
    let ms = |d: Duration| format!("{}ms", d.as_secs_f64() * 1e3);
    let mut text = format!("{}±{}", ms(link.delay), ms(link.jitter));
    if let Some(bandwidth) = link.bandwidth {
        text += &format!(" at {bandwidth} B/s");
    }
    if link.loss > 0.0 {
        text += &format!(" with {}% stalls of {}", link.loss * 100.0, ms(link.stall));
    }
    text
}

/// Parses a bandwidth into bytes per second: a plain number is bytes per second; `bit`,
/// `kbit`, `mbit`, `gbit` count bits; `B`, `kB`, `MB`, `GB` bytes (powers of 1000) and
/// `KiB`, `MiB`, `GiB` bytes (powers of 1024). Units are case-insensitive; `/s` may follow.
pub fn parse_bandwidth(text: &str) -> Result<u64, String> {
    let lower = text.trim().to_ascii_lowercase();
    let lower = lower.strip_suffix("/s").unwrap_or(&lower);
    let split = lower.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(lower.len());
    let (number, unit) = lower.split_at(split);
    let bits = |scale: f64| scale / 8.0;
    let scale = match unit.trim() {
        "" | "b" => 1.0,
        "bit" => bits(1.0),
        "kbit" => bits(1e3),
        "mbit" => bits(1e6),
        "gbit" => bits(1e9),
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!("unknown unit {other:?} (use e.g. 500kbit, 1mbit, 2MB, 64KiB)"));
        }
    };
    let value: f64 =
        number.parse().map_err(|_| format!("{text:?} is not a bandwidth (e.g. 1mbit)"))?;
    let bytes = (value * scale).round();
    if !(1.0..=u64::MAX as f64).contains(&bytes) {
        return Err(format!("bandwidth {text} is less than one byte per second"));
    }
    Ok(bytes as u64)
}

fn parse_probability(text: &str) -> Result<f64, String> {
    let value: f64 = text.parse().map_err(|_| format!("{text:?} is not a number"))?;
    if !(0.0..=1.0).contains(&value) {
        return Err(format!("{value} is not a probability between 0 and 1"));
    }
    Ok(value)
}

fn parse_upstream(text: &str) -> Result<String, String> {
    match text.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
            Ok(text.to_string())
        }
        _ => Err(format!("{text:?} is not host:port (e.g. 127.0.0.1:8080)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netsim::DEFAULT_STALL;
    use clap::Parser;

    #[derive(Parser)]
    struct NetsimCli {
        #[command(flatten)]
        args: NetsimArgs,
    }

    #[test]
    fn bandwidths_parse_in_bits_and_bytes() {
        assert_eq!(parse_bandwidth("1000"), Ok(1000));
        assert_eq!(parse_bandwidth("1mbit"), Ok(125_000));
        assert_eq!(parse_bandwidth("500kbit"), Ok(62_500));
        assert_eq!(parse_bandwidth("2MB"), Ok(2_000_000));
        assert_eq!(parse_bandwidth("64KiB"), Ok(65_536));
        assert_eq!(parse_bandwidth("1.5Mbit/s"), Ok(187_500));
        assert_eq!(parse_bandwidth("10 kB"), Ok(10_000));
    }

    #[test]
    fn bad_bandwidths_are_refused_with_the_reason() {
        for bad in ["", "fast", "1 furlong", "-5kbit", "0", "1bit", "1e3"] {
            assert!(parse_bandwidth(bad).is_err(), "{bad}");
        }
        assert!(parse_bandwidth("3parsecs").expect_err("refused").contains("unknown unit"));
    }

    #[test]
    fn the_stall_flag_defaults_to_the_link_default() {
        let args = NetsimCli::try_parse_from(["netsim"]).expect("defaults parse").args;
        assert_eq!(args.stall, DEFAULT_STALL);
    }

    #[test]
    fn probabilities_are_between_zero_and_one() {
        assert_eq!(parse_probability("0.25"), Ok(0.25));
        assert!(parse_probability("2").is_err());
        assert!(parse_probability("-0.1").is_err());
        assert!(parse_probability("NaN").is_err());
    }

    #[test]
    fn upstream_needs_a_host_and_a_port() {
        assert!(parse_upstream("127.0.0.1:8080").is_ok());
        assert!(parse_upstream("localhost:80").is_ok());
        assert!(parse_upstream("[::1]:8080").is_ok());
        for bad in ["8080", ":8080", "localhost", "localhost:http", "localhost:70000"] {
            assert!(parse_upstream(bad).is_err(), "{bad}");
        }
    }
}
