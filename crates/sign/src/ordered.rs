//! Ordered parallel work over a stream of batches, without a barrier between batches.
//!
//! Each batch is cut into chunks that whichever worker is free claims, so a worker that has
//! finished its share of one batch goes straight on to the next while the others finish
//! theirs. The batches, with their chunks' results, reach the consumer in the order they
//! were submitted, on its own thread. (A scoped `parallel_map` per batch left a core idle at
//! the end of every batch and started a thread per batch.)

use std::any::Any;
use std::collections::VecDeque;
use std::ops::Range;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use crate::error::SignError;

/// A submitted batch and the results of its chunks as they come in.
struct Item<T, R> {
    value: T,
    len: usize,
    chunks: usize,
    state: Mutex<ItemState<R>>,
    done: Condvar,
}

struct ItemState<R> {
    results: Vec<Option<R>>,
    finished: usize,
}

/// Batches with chunks left to claim, oldest first.
struct Queue<T, R> {
    items: VecDeque<(Arc<Item<T, R>>, usize)>,
    closed: bool,
}

fn lock<V>(mutex: &Mutex<V>) -> MutexGuard<'_, V> {
    // A worker that panicked is reported through its missing result; the data is still sound.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Stores a chunk's result (`None`: its work panicked) and wakes the consumer when it was
/// the batch's last.
fn complete<T, R>(item: &Item<T, R>, chunk: usize, result: Option<R>) {
    let mut state = lock(&item.state);
    if let Some(slot) = state.results.get_mut(chunk) {
        *slot = result;
    }
    state.finished += 1;
    if state.finished == item.chunks {
        item.done.notify_all();
    }
}

/// Runs `work` over chunks of `chunk_len` positions of every batch that `produce` submits,
/// on `workers` threads, and hands each batch with its chunks' results, in submission order,
/// to `consume` on a thread of its own. `produce` submits a batch and its length with the
/// callback it is given, which returns false once the consumer has stopped (on an error,
/// which is then returned). At most a few batches are in flight at once. Returns what
/// `produce` returns, once every batch is consumed.
pub(crate) fn for_each_chunked<T, R, P>(
    workers: usize,
    chunk_len: usize,
    produce: impl FnOnce(&mut dyn FnMut(T, usize) -> bool) -> Result<P, SignError>,
    work: impl Fn(&T, Range<usize>) -> R + Sync,
    mut consume: impl FnMut(&T, Vec<R>) -> Result<(), SignError> + Send,
) -> Result<P, SignError>
where
    T: Send + Sync,
    R: Send,
{
    let chunk_len = chunk_len.max(1);
    let queue = Mutex::new(Queue::<T, R> {
        items: VecDeque::new(),
        closed: false,
    });
    let ready = Condvar::new();
    let panic: Mutex<Option<Box<dyn Any + Send>>> = Mutex::new(None);
    std::thread::scope(|scope| {
        let (sender, submitted) = sync_channel::<Arc<Item<T, R>>>(2);
        let consuming = scope.spawn(move || -> Result<(), SignError> {
            for item in submitted {
                let mut state = lock(&item.state);
                while state.finished < item.chunks {
                    state = item
                        .done
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                let results: Option<Vec<R>> = state.results.iter_mut().map(Option::take).collect();
                drop(state);
                let results = results.ok_or_else(|| {
                    SignError::Unsupported("a signing thread failed unexpectedly".into())
                })?;
                consume(&item.value, results)?;
            }
            Ok(())
        });
        let working: Vec<_> = (0..workers.max(1))
            .map(|_| {
                scope.spawn(|| {
                    while let Some((item, chunk)) = claim(&queue, &ready) {
                        let start = chunk * chunk_len;
                        let range = start.min(item.len)..(start + chunk_len).min(item.len);
                        // A panic must not leave the consumer waiting for this chunk: it is
                        // caught, the chunk has no result (an error for the consumer), and
                        // the panic is raised again once every thread has stopped.
                        let result =
                            std::panic::catch_unwind(AssertUnwindSafe(|| work(&item.value, range)));
                        let result = match result {
                            Ok(result) => Some(result),
                            Err(payload) => {
                                lock(&panic).get_or_insert(payload);
                                None
                            }
                        };
                        complete(&item, chunk, result);
                    }
                })
            })
            .collect();
        // The submitter owns the sender: dropping it ends the consumer's loop.
        let (queue_ref, ready_ref) = (&queue, &ready);
        let mut submit = move |value: T, len: usize| -> bool {
            let chunks = len.div_ceil(chunk_len).max(1);
            let item = Arc::new(Item {
                value,
                len,
                chunks,
                state: Mutex::new(ItemState {
                    results: (0..chunks).map(|_| None).collect(),
                    finished: 0,
                }),
                done: Condvar::new(),
            });
            lock(queue_ref).items.push_back((item.clone(), 0));
            ready_ref.notify_all();
            sender.send(item).is_ok()
        };
        let produced = produce(&mut submit);
        drop(submit);
        lock(&queue).closed = true;
        ready.notify_all();
        for worker in working {
            if let Err(payload) = worker.join() {
                lock(&panic).get_or_insert(payload);
            }
        }
        let consumed = match consuming.join() {
            Ok(result) => result,
            Err(payload) => std::panic::resume_unwind(payload),
        };
        if let Some(payload) = lock(&panic).take() {
            std::panic::resume_unwind(payload);
        }
        consumed.and(produced)
    })
}

/// The next chunk to work on, oldest batch first; `None` once the queue is closed and empty.
fn claim<T, R>(queue: &Mutex<Queue<T, R>>, ready: &Condvar) -> Option<(Arc<Item<T, R>>, usize)> {
    let mut q = lock(queue);
    loop {
        if let Some((item, next)) = q.items.front_mut() {
            let chunk = *next;
            *next += 1;
            let item = item.clone();
            if chunk + 1 >= item.chunks {
                q.items.pop_front();
            }
            return Some((item, chunk));
        }
        if q.closed {
            return None;
        }
        q = ready.wait(q).unwrap_or_else(PoisonError::into_inner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_order_and_whole() {
        let batches: Vec<Vec<u64>> = (0..50u64)
            .map(|b| (0..(b * 7) % 23).map(|i| b * 1000 + i).collect())
            .collect();
        let mut seen = Vec::new();
        for_each_chunked(
            2,
            3,
            |submit| {
                for b in &batches {
                    assert!(submit(b.clone(), b.len()));
                }
                Ok(())
            },
            |batch: &Vec<u64>, range| batch[range].iter().map(|v| v * 2).collect::<Vec<u64>>(),
            |batch, results| {
                let doubled: Vec<u64> = results.into_iter().flatten().collect();
                assert_eq!(doubled, batch.iter().map(|v| v * 2).collect::<Vec<_>>());
                seen.push(batch.clone());
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, batches);
    }

    #[test]
    fn a_consumer_error_stops_the_producer_and_is_returned() {
        let mut submitted = 0;
        let result = for_each_chunked(
            2,
            4,
            |submit| {
                for i in 0..1000usize {
                    if !submit(i, 10) {
                        break;
                    }
                    submitted += 1;
                }
                Ok(())
            },
            |_, range| range.len(),
            |&i, _| {
                if i == 3 {
                    Err(SignError::Unsupported("stop".into()))
                } else {
                    Ok(())
                }
            },
        );
        assert!(matches!(result, Err(SignError::Unsupported(m)) if m == "stop"));
        assert!(submitted < 1000);
    }

    #[test]
    fn a_panicking_worker_does_not_hang_the_consumer() {
        let outcome = std::panic::catch_unwind(|| {
            for_each_chunked(
                2,
                1,
                |submit| {
                    for i in 0..20usize {
                        if !submit(i, 3) {
                            break;
                        }
                    }
                    Ok(())
                },
                |&i, _| {
                    if i == 5 {
                        panic!("worker");
                    }
                    i
                },
                |_, _| Ok(()),
            )
        });
        // The panic is raised again in the caller, after every thread has stopped.
        assert!(outcome.is_err());
    }
}
