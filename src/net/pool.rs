//! Recycled snapshot buffers.
//!
//! The tick builds one buffer per client per tick and the socket writers drop them after the
//! write, on another thread. Left to the allocator, that traffic of thousands of
//! kilobyte-sized blocks a tick crossing threads made the heap grow and shrink every tick,
//! and the page faults cost more than building the snapshots. A buffer frozen here goes back
//! to the pool when the last [`Bytes`] handle to it is dropped, and the tick takes it again.

use axum::body::Bytes;
use std::sync::{Arc, Mutex, PoisonError};

/// Buffers larger than this are left to the allocator rather than kept (a rare full
/// snapshot of a crowded world should not pin its memory).
const MAX_KEPT_CAPACITY: usize = 64 * 1024;

/// A bounded stack of spare buffers, shared by the tick and the writers.
#[derive(Debug)]
pub struct BufferPool {
    free: Mutex<Vec<Vec<u8>>>,
    keep: usize,
}

impl BufferPool {
    /// A pool keeping at most `keep` spare buffers.
    pub fn new(keep: usize) -> Arc<BufferPool> {
        Arc::new(BufferPool { free: Mutex::new(Vec::with_capacity(keep)), keep })
    }

    /// An empty buffer with room for at least `capacity` bytes, reused when one is spare.
    pub fn take(&self, capacity: usize) -> Vec<u8> {
        let spare = self.free.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut buffer = spare.unwrap_or_default();
        buffer.reserve(capacity);
        buffer
    }

    /// Wraps a filled buffer as `Bytes` that returns it to the pool when dropped.
    pub fn freeze(self: &Arc<BufferPool>, buffer: Vec<u8>) -> Bytes {
        Bytes::from_owner(Pooled { buffer, pool: self.clone() })
    }

    fn give_back(&self, mut buffer: Vec<u8>) {
        if buffer.capacity() == 0 || buffer.capacity() > MAX_KEPT_CAPACITY {
            return;
        }
        buffer.clear();
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        if free.len() < self.keep {
            free.push(buffer);
        }
    }

    /// Spare buffers held now.
    pub fn spare(&self) -> usize {
        self.free.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// A pooled buffer owned by `Bytes`.
struct Pooled {
    buffer: Vec<u8>,
    pool: Arc<BufferPool>,
}

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.buffer
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        self.pool.give_back(std::mem::take(&mut self.buffer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_frame_returns_its_buffer() {
        let pool = BufferPool::new(4);
        let mut buffer = pool.take(100);
        buffer.extend_from_slice(b"snapshot");
        let address = buffer.as_ptr();
        let frame = pool.freeze(buffer);
        let copy = frame.clone();
        drop(frame);
        assert_eq!(pool.spare(), 0, "a handle is still alive");
        assert_eq!(&copy[..], b"snapshot");
        drop(copy);
        assert_eq!(pool.spare(), 1);
        let again = pool.take(10);
        assert!(again.is_empty());
        assert_eq!(again.as_ptr(), address, "the same allocation comes back");
    }

    #[test]
    fn the_pool_is_bounded_and_skips_huge_buffers() {
        let pool = BufferPool::new(2);
        drop(pool.freeze(vec![0; MAX_KEPT_CAPACITY + 1]));
        assert_eq!(pool.spare(), 0, "too big to keep");
        let frames: Vec<Bytes> = (0..3).map(|_| pool.freeze(pool.take(16))).collect();
        drop(frames);
        assert_eq!(pool.spare(), 2);
    }
}
