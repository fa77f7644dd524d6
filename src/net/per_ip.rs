//! WebSocket connections per client address, capped by `--max-connections-per-ip`.
//!
//! One machine opening thousands of sockets should meet its own limit long before the
//! server's `--max-clients`, so it cannot crowd out everyone else. The count covers an
//! upgrade from the moment it is accepted until its connection task ends; the excess is
//! refused with `429` before the upgrade. Addresses are grouped as a host is usually given
//! them: an IPv4 address alone (an IPv4-mapped IPv6 address counts as its IPv4 address), an
//! IPv6 address by its /64 prefix, which one subscriber usually holds whole.
//!
//! Behind a reverse proxy every client has the proxy's address: raise the limit there (to
//! `--max-clients`, which turns it off) and enforce a per-client limit at the proxy.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};

/// Open connections by address group; clones share the counts.
///
/// A `std::sync::Mutex` and not a Tokio one: it is held for one map update, never across an
/// await, and only on connect and disconnect.
#[derive(Debug, Default, Clone)]
pub struct ConnectionsPerIp {
    counts: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One counted connection; dropping it frees the slot.
#[derive(Debug)]
pub struct IpSlot {
    counts: Arc<Mutex<HashMap<IpAddr, usize>>>,
    group: IpAddr,
}

impl ConnectionsPerIp {
    /// Counts a connection from `peer` unless its group already has `limit`; `Err` holds
    /// the reason for the `429`.
    pub fn try_acquire(&self, peer: IpAddr, limit: usize) -> Result<IpSlot, String> {
        let group = group(peer);
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(group).or_insert(0);
        if *count >= limit {
            return Err(format!(
                "too many connections from {group}: at most {limit} per address (--max-connections-per-ip)"
            ));
        }
        *count += 1;
        Ok(IpSlot { counts: self.counts.clone(), group })
    }

    /// Connections counted for `peer`'s group.
    pub fn count(&self, peer: IpAddr) -> usize {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.get(&group(peer)).copied().unwrap_or(0)
    }

    /// Address groups with a connection (the map never holds a zero).
    pub fn groups(&self) -> usize {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.group) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.group);
            }
        }
    }
}

/// The address group a connection counts against.
fn group(peer: IpAddr) -> IpAddr {
    match peer {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn the_limit_holds_per_address_and_slots_come_back() {
        let per_ip = ConnectionsPerIp::default();
        let first = per_ip.try_acquire(ip("10.0.0.1"), 2).expect("1 of 2");
        let _second = per_ip.try_acquire(ip("10.0.0.1"), 2).expect("2 of 2");
        let refused = per_ip.try_acquire(ip("10.0.0.1"), 2).expect_err("3 of 2");
        assert!(refused.contains("too many connections from 10.0.0.1: at most 2"), "{refused}");
        let _other = per_ip.try_acquire(ip("10.0.0.2"), 2).expect("another address");
        drop(first);
        let _again = per_ip.try_acquire(ip("10.0.0.1"), 2).expect("a slot came back");
        assert_eq!(per_ip.count(ip("10.0.0.1")), 2);
    }

    #[test]
    fn ipv6_counts_by_64_prefix_and_mapped_ipv4_as_ipv4() {
        let per_ip = ConnectionsPerIp::default();
        let _a = per_ip.try_acquire(ip("2001:db8:1:2::1"), 2).expect("1");
        let _b = per_ip.try_acquire(ip("2001:db8:1:2:ffff::9"), 2).expect("2, same /64");
        assert!(per_ip.try_acquire(ip("2001:db8:1:2::77"), 2).is_err());
        assert!(per_ip.try_acquire(ip("2001:db8:1:3::1"), 2).is_ok(), "another /64");
        let _v4 = per_ip.try_acquire(ip("192.0.2.7"), 1).expect("v4");
        assert!(per_ip.try_acquire(ip("::ffff:192.0.2.7"), 1).is_err(), "mapped is the same");
    }

    #[test]
    fn empty_groups_are_forgotten() {
        let per_ip = ConnectionsPerIp::default();
        let slots: Vec<IpSlot> = (0..100)
            .map(|n| per_ip.try_acquire(IpAddr::from([10, 0, 0, n]), 1).expect("slot"))
            .collect();
        assert_eq!(per_ip.groups(), 100);
        drop(slots);
        assert_eq!(per_ip.groups(), 0);
    }
}
