//! The threads of every long job, in one place: a stage that reads ahead of its consumer
//! (and its mirror, a consumer behind its producer), a stage that consumes on a thread of its
//! own for a caller that pushes (a conversion's sink), ordered parallel work over a stream of
//! batches, and parallel work over a slice.
//!
//! Every scheme here keeps memory bounded (queues of a few items) and never hangs: when one
//! side stops, on an error or a panic, the other sees its queue closed and stops too; a
//! panic is raised again in the caller once every thread has ended.

use std::any::Any;
use std::collections::VecDeque;
use std::ops::Range;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

/// The number of threads that run at once on this machine (at least one).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The sending end of a bounded queue to another stage.
#[derive(Debug)]
pub struct Feed<T>(SyncSender<T>);

impl<T> Clone for Feed<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> Feed<T> {
    /// Queues `item`, waiting while the queue is full. False once the receiving stage has
    /// stopped: the sender should stop too.
    pub fn send(&self, item: T) -> bool {
        self.0.send(item).is_ok()
    }
}

/// Runs `produce` on another thread while `consume` takes, on this one, what it sends, with
/// at most `depth` items waiting between them. When `consume` returns, `produce`'s next send
/// fails (it should then return); when `produce` returns or panics, `consume`'s iterator
/// ends. Returns both results once both have ended; a panic of `produce` is raised again.
pub fn read_ahead<T, P, C>(
    depth: usize,
    produce: impl FnOnce(&Feed<T>) -> P + Send,
    consume: impl FnOnce(&mut dyn Iterator<Item = T>) -> C,
) -> (P, C)
where
    T: Send,
    P: Send,
{
    std::thread::scope(|scope| {
        let (sender, receiver) = sync_channel(depth.max(1));
        let producing = scope.spawn(move || {
            let feed = Feed(sender);
            produce(&feed)
        });
        let consumed = consume(&mut receiver.iter());
        // The producer may be waiting to send: closing the queue lets it return.
        drop(receiver);
        let produced = producing
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (produced, consumed)
    })
}

/// Runs `consume` on another thread, taking what `produce` sends from this one, with at most
/// `depth` items waiting between them: [`read_ahead`] with the threads swapped, for a
/// producer that cannot move to another thread (a reader borrowed as `&mut dyn Read`).
/// When `consume` returns or panics, `produce`'s next send fails; when `produce` returns,
/// `consume`'s iterator ends. Returns both results; a panic of `consume` is raised again.
pub fn hand_off<T, P, C>(
    depth: usize,
    produce: impl FnOnce(&Feed<T>) -> P,
    consume: impl FnOnce(&mut dyn Iterator<Item = T>) -> C + Send,
) -> (P, C)
where
    T: Send,
    C: Send,
{
    std::thread::scope(|scope| {
        let (sender, receiver) = sync_channel(depth.max(1));
        let consuming = scope.spawn(move || consume(&mut receiver.iter()));
        let feed = Feed(sender);
        let produced = produce(&feed);
        // Closing the queue ends the consumer's iterator.
        drop(feed);
        let consumed = consuming
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (produced, consumed)
    })
}

/// A stage on a thread of its own that consumes what is fed to it, in order, and returns a
/// result once its queue is closed (see [`Background::finish`]). Unlike [`hand_off`], the
/// producer need not run inside one call: a sink fed batch by batch keeps the stage between
/// calls (the pgvector loader's `COPY`).
#[derive(Debug)]
pub struct Background<T, R> {
    feed: Feed<T>,
    thread: JoinHandle<R>,
}

impl<T: Send + 'static, R: Send + 'static> Background<T, R> {
    /// Starts `consume` on a new thread, with at most `depth` items waiting for it.
    pub fn spawn(depth: usize, consume: impl FnOnce(Receiver<T>) -> R + Send + 'static) -> Self {
        let (sender, receiver) = sync_channel(depth.max(1));
        Self {
            feed: Feed(sender),
            thread: std::thread::spawn(move || consume(receiver)),
        }
    }

    /// Another sending end of the stage's queue. The stage ends once every feed is dropped
    /// and [`Background::finish`] is called.
    pub fn feed(&self) -> Feed<T> {
        self.feed.clone()
    }

    /// Closes this end of the queue and waits for the stage's result; a panic of the stage
    /// is raised again here. Feeds handed out must be dropped first, or this waits for them.
    pub fn finish(self) -> R {
        drop(self.feed);
        self.thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

/// `f` over consecutive chunks of `items` on every core, its results concatenated in order;
/// `f` returns one result per item of its chunk. Threads take small chunks in turn, so that
/// a slow chunk does not leave the other cores idle.
pub fn parallel_chunks<T: Sync, R: Send>(items: &[T], f: impl Fn(&[T]) -> Vec<R> + Sync) -> Vec<R> {
    let threads = cores();
    // Small enough to balance (several per thread), large enough to amortise the counter.
    let chunk_len = (items.len() / (threads * 8)).clamp(1, 32);
    let chunks = items.len().div_ceil(chunk_len);
    if threads <= 1 || chunks < 2 {
        return f(items);
    }
    let next = AtomicUsize::new(0);
    let mut parts: Vec<(usize, Vec<R>)> = std::thread::scope(|scope| {
        let work = || {
            let mut done = Vec::new();
            loop {
                let chunk = next.fetch_add(1, Ordering::Relaxed);
                if chunk >= chunks {
                    return done;
                }
                let part = &items[chunk * chunk_len..((chunk + 1) * chunk_len).min(items.len())];
                done.push((chunk, f(part)));
            }
        };
        let handles: Vec<_> = (1..threads.min(chunks))
            .map(|_| scope.spawn(work))
            .collect();
        let mut parts = work();
        for handle in handles {
            match handle.join() {
                Ok(more) => parts.extend(more),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        parts
    });
    parts.sort_unstable_by_key(|(chunk, _)| *chunk);
    parts.into_iter().flat_map(|(_, part)| part).collect()
}

/// `f` over each of `items` on every core, in order.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    parallel_chunks(items, |chunk| chunk.iter().map(&f).collect())
}

/// A batch submitted to [`ordered_chunks`] and the results of its chunks as they come in.
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

/// Ordered parallel work over a stream of batches, without a barrier between batches.
///
/// `produce` submits batches with the callback it is given (a batch and its length in
/// positions); the callback returns false once the consumer has stopped, and `produce`
/// should then return. Each batch is cut into chunks of `chunk_len` positions that whichever
/// of `workers` threads is free claims and runs `work` on, so a worker that has finished its
/// share of one batch goes straight on to the next while the others finish theirs. Each
/// batch, with its chunks' results, reaches `consume` in submission order, on a thread of its
/// own. At most a few batches are in flight at once.
///
/// Returns `produce`'s result once every batch is consumed, or the consumer's error, which
/// comes first. A panic of any of them is raised again once every thread has stopped.
pub fn ordered_chunks<T, R, P, E>(
    workers: usize,
    chunk_len: usize,
    produce: impl FnOnce(&mut dyn FnMut(T, usize) -> bool) -> Result<P, E>,
    work: impl Fn(&T, Range<usize>) -> R + Sync,
    mut consume: impl FnMut(&T, Vec<R>) -> Result<(), E> + Send,
) -> Result<P, E>
where
    T: Send + Sync,
    R: Send,
    E: Send,
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
        // `Err(None)`: a worker panicked, which is raised again below.
        let consuming = scope.spawn(move || -> Result<(), Option<E>> {
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
                consume(&item.value, results.ok_or(None)?).map_err(Some)?;
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
                        // caught, the chunk has no result, and the panic is raised again
                        // once every thread has stopped.
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
        let produced = std::panic::catch_unwind(AssertUnwindSafe(|| produce(&mut submit)));
        drop(submit);
        lock(&queue).closed = true;
        ready.notify_all();
        for worker in working {
            if let Err(payload) = worker.join() {
                lock(&panic).get_or_insert(payload);
            }
        }
        let consumed = consuming.join();
        let produced = match produced {
            Ok(produced) => produced,
            Err(payload) => std::panic::resume_unwind(payload),
        };
        let consumed = match consumed {
            Ok(consumed) => consumed,
            Err(payload) => std::panic::resume_unwind(payload),
        };
        if let Some(payload) = lock(&panic).take() {
            std::panic::resume_unwind(payload);
        }
        match consumed {
            Ok(()) => produced,
            Err(Some(e)) => Err(e),
            // Unreachable: a missing result means a worker panicked, raised above.
            Err(None) => produced,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_ahead_hands_everything_over_in_order() {
        let (produced, consumed) = read_ahead(
            2,
            |feed| (0..100).take_while(|&i| feed.send(i)).count(),
            |items| items.collect::<Vec<i32>>(),
        );
        assert_eq!(produced, 100);
        assert_eq!(consumed, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn read_ahead_stops_the_producer_when_the_consumer_stops() {
        let (produced, consumed) = read_ahead(
            2,
            |feed| (0..1_000_000).take_while(|&i| feed.send(i)).count(),
            |items| items.take(5).count(),
        );
        assert_eq!(consumed, 5);
        assert!(produced < 1_000_000);
    }

    #[test]
    fn a_panicking_producer_ends_the_consumer_and_is_raised() {
        let outcome = std::panic::catch_unwind(|| {
            read_ahead(
                1,
                |feed| {
                    feed.send(1);
                    panic!("producer");
                },
                |items| items.count(),
            )
        });
        assert!(outcome.is_err());
    }

    #[test]
    fn hand_off_hands_everything_over_and_stops_with_the_consumer() {
        let (produced, consumed) = hand_off(
            2,
            |feed| (0..100).take_while(|&i| feed.send(i)).count(),
            |items| items.collect::<Vec<i32>>(),
        );
        assert_eq!(produced, 100);
        assert_eq!(consumed, (0..100).collect::<Vec<_>>());
        let (produced, consumed) = hand_off(
            2,
            |feed| (0..1_000_000).take_while(|&i| feed.send(i)).count(),
            |items| items.take(3).count(),
        );
        assert_eq!(consumed, 3);
        assert!(produced < 1_000_000);
        let outcome = std::panic::catch_unwind(|| {
            hand_off(
                1,
                |feed| (0..1_000_000).take_while(|&i| feed.send(i)).count(),
                |_| -> usize { panic!("consumer") },
            )
        });
        assert!(outcome.is_err());
    }

    #[test]
    fn background_consumes_in_order() {
        let stage = Background::spawn(2, |items| items.iter().collect::<Vec<u32>>());
        let feed = stage.feed();
        for i in 0..50 {
            assert!(feed.send(i));
        }
        drop(feed);
        assert_eq!(stage.finish(), (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn parallel_chunks_keeps_order() {
        let items: Vec<u32> = (0..1000).collect();
        let doubled = parallel_chunks(&items, |chunk| chunk.iter().map(|v| v * 2).collect());
        assert_eq!(doubled, items.iter().map(|v| v * 2).collect::<Vec<_>>());
        assert_eq!(parallel_map(&items[..1], |v| v + 1), vec![1]);
        assert!(parallel_map(&items[..0], |v| v + 1).is_empty());
    }

    #[test]
    fn ordered_results_come_in_order_and_whole() {
        let batches: Vec<Vec<u64>> = (0..50u64)
            .map(|b| (0..(b * 7) % 23).map(|i| b * 1000 + i).collect())
            .collect();
        let mut seen = Vec::new();
        ordered_chunks::<_, _, _, ()>(
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
        let result = ordered_chunks(
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
            |&i, _| if i == 3 { Err("stop") } else { Ok(()) },
        );
        assert_eq!(result, Err("stop"));
        assert!(submitted < 1000);
    }

    #[test]
    fn a_panicking_worker_does_not_hang_the_consumer() {
        let outcome = std::panic::catch_unwind(|| {
            ordered_chunks::<_, _, _, ()>(
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
        assert!(outcome.is_err());
    }

    #[test]
    fn a_panicking_producer_does_not_hang_the_workers() {
        let outcome = std::panic::catch_unwind(|| {
            ordered_chunks::<usize, usize, (), ()>(
                2,
                1,
                |submit| {
                    submit(1, 4);
                    panic!("producer");
                },
                |&i, _| i,
                |_, _| Ok(()),
            )
        });
        assert!(outcome.is_err());
    }
}
