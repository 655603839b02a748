//! Per-address connection slots: how many sockets one IP address may hold open at once.
//! Owns only the counting; the widget socket asks for a slot before it starts a session and
//! returns it when the socket ends (the slot is released on drop, so no path can leak one).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Counts open sockets per address against one limit.
#[derive(Debug)]
pub struct IpSlots {
    limit: usize,
    // A std mutex: held for one map operation, never across an await.
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One held slot; dropping it frees the slot.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<IpSlots>,
    ip: IpAddr,
}

impl IpSlots {
    pub fn new(limit: usize) -> Arc<IpSlots> {
        Arc::new(IpSlots { limit, open: Mutex::default() })
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Takes a slot for `ip`, or `None` when the address already holds `limit` sockets
    /// (a limit of 0 means no limit).
    pub fn acquire(self: &Arc<IpSlots>, ip: IpAddr) -> Option<Slot> {
        let mut open = self.open.lock().expect("slot mutex poisoned: a holder panicked");
        let n = open.entry(ip).or_default();
        if self.limit > 0 && *n >= self.limit {
            return None;
        }
        *n += 1;
        Some(Slot { slots: self.clone(), ip })
    }

    /// Sockets `ip` holds open now.
    pub fn open(&self, ip: IpAddr) -> usize {
        self.open.lock().expect("slot mutex poisoned: a holder panicked").get(&ip).copied().unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().expect("slot mutex poisoned: a holder panicked");
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_limit_and_slots_come_back_on_drop() {
        let slots = IpSlots::new(2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = slots.acquire(a).expect("first slot");
        let _second = slots.acquire(a).expect("second slot");
        assert!(slots.acquire(a).is_none(), "a third socket from the same address is refused");
        assert!(slots.acquire(b).is_some(), "another address is not affected");
        drop(first);
        assert_eq!(slots.open(a), 1);
        assert!(slots.acquire(a).is_some(), "a freed slot can be taken again");
        assert_eq!(slots.open(b), 0, "a dropped slot leaves no entry behind");
    }

    #[test]
    fn a_limit_of_zero_is_no_limit() {
        let slots = IpSlots::new(0);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let held: Vec<Slot> = (0..1000).map(|_| slots.acquire(a).expect("no limit")).collect();
        assert_eq!(slots.open(a), 1000);
        drop(held);
        assert_eq!(slots.open(a), 0);
    }
}
