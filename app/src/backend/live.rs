//! Rooms: who hears what happens in a session. Features publish to a session's room; the sockets
//! of that session (the candidate's chat, recruiters watching) subscribe to it.
//!
//! One process now ([`LocalRooms`]). Several instances would share rooms through another
//! implementation of [`Rooms`] (for example one fed by MongoDB change streams) without any
//! feature changing.

use crate::live::LiveEvent;
use crate::model::Id;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// Events a slow subscriber may fall behind by before it is dropped (it reconnects and reads
/// the history).
const ROOM_CAPACITY: usize = 256;

pub type Subscription = broadcast::Receiver<Arc<LiveEvent>>;

pub trait Rooms: Send + Sync {
    /// Delivers `event` to everyone in the session's room now; with nobody there it is dropped
    /// (everything that matters is also stored).
    fn publish(&self, session: &Id, event: LiveEvent);
    /// Every event published to the session's room from now on.
    fn subscribe(&self, session: &Id) -> Subscription;
}

/// Rooms of this process: one broadcast channel per session with listeners.
#[derive(Default)]
pub struct LocalRooms {
    rooms: Mutex<HashMap<Id, broadcast::Sender<Arc<LiveEvent>>>>,
}

impl LocalRooms {
    fn rooms(&self) -> std::sync::MutexGuard<'_, HashMap<Id, broadcast::Sender<Arc<LiveEvent>>>> {
        // A panic while holding the lock cannot leave the map inconsistent: keep using it.
        self.rooms
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Rooms with someone in them.
    pub fn open_rooms(&self) -> usize {
        self.rooms().len()
    }
}

impl Rooms for LocalRooms {
    fn publish(&self, session: &Id, event: LiveEvent) {
        let mut rooms = self.rooms();
        if let Some(room) = rooms.get(session)
            && room.send(Arc::new(event)).is_err()
        {
            // Everyone left.
            rooms.remove(session);
        }
    }

    fn subscribe(&self, session: &Id) -> Subscription {
        let mut rooms = self.rooms();
        rooms.retain(|_, room| room.receiver_count() > 0);
        rooms
            .entry(session.clone())
            .or_insert_with(|| broadcast::channel(ROOM_CAPACITY).0)
            .subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::store::new_id;

    fn ended() -> LiveEvent {
        LiveEvent::Ended {
            ended_at: "2026-11-26T10:00:00.000Z".into(),
        }
    }

    #[tokio::test]
    async fn events_reach_only_their_own_room_and_empty_rooms_go_away() {
        let rooms = LocalRooms::default();
        let (a, b) = (new_id(), new_id());
        let mut in_a = rooms.subscribe(&a);
        let mut in_b = rooms.subscribe(&b);
        rooms.publish(&a, ended());
        assert_eq!(*in_a.recv().await.expect("event"), ended());
        assert!(in_b.try_recv().is_err(), "b heard a's event");
        drop(in_a);
        drop(in_b);
        rooms.publish(&a, ended());
        assert_eq!(
            rooms.open_rooms(),
            1,
            "a's room closed when it was found empty"
        );
        let _c = rooms.subscribe(&new_id());
        assert_eq!(
            rooms.open_rooms(),
            1,
            "b's empty room pruned on the next join"
        );
    }
}
