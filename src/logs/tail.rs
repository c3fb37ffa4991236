//! Live tail over endpoints that only send whole files: poll the listing, download when the
//! size grew, keep the bytes past our offset; a shrunken file was rotated, so start over.

use super::source::LogSource;
use crate::flink::FlinkError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TailEvent {
    Unchanged,
    /// New bytes at the end of the file.
    Appended(Vec<u8>),
    /// The file is shorter than what we had (rotated or restarted): its whole new content.
    Rotated(Vec<u8>),
    /// The file is gone from the listing (its TaskManager vanished, or it rolled away).
    Vanished,
}

pub struct Tailer<S: LogSource> {
    pub source: S,
    pub file: String,
    offset: u64,
}

impl<S: LogSource> Tailer<S> {
    /// Tails `file` of `source` from its start.
    pub fn new(source: S, file: String) -> Self {
        Self { source, file, offset: 0 }
    }

    /// Tails `file` from `offset` (what the caller already has).
    pub fn starting_at(source: S, file: String, offset: u64) -> Self {
        Self { source, file, offset }
    }

    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// One poll: what changed since the last one.
    pub async fn poll(&mut self) -> Result<TailEvent, FlinkError> {
        let listed = self.source.list().await?;
        let Some(size) = listed.iter().find(|f| f.name == self.file).map(|f| f.size) else {
            return Ok(TailEvent::Vanished);
        };
        if size == self.offset {
            return Ok(TailEvent::Unchanged);
        }
        let body = self.source.fetch(&self.file).await?;
        let length = body.len() as u64;
        if size < self.offset || length < self.offset {
            self.offset = length;
            return Ok(TailEvent::Rotated(body));
        }
        // The body may be shorter than the listed size (cached copy): take what it has and
        // come back for the rest next time.
        let fresh = body[self.offset as usize..].to_vec();
        self.offset = length;
        Ok(if fresh.is_empty() { TailEvent::Unchanged } else { TailEvent::Appended(fresh) })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::logs::source::LogFile;

    /// A source whose file content the test sets; the listed size may lag or lead it.
    struct Fake {
        content: Mutex<(Vec<u8>, Option<u64>)>,
    }

    impl LogSource for &Fake {
        async fn list(&self) -> Result<Vec<LogFile>, FlinkError> {
            let (content, listed) = &*self.content.lock().unwrap();
            if content == b"GONE" {
                return Ok(Vec::new());
            }
            Ok(vec![LogFile {
                name: "a.log".into(),
                size: listed.unwrap_or(content.len() as u64),
                mtime: None,
            }])
        }
        async fn fetch(&self, _: &str) -> Result<Vec<u8>, FlinkError> {
            Ok(self.content.lock().unwrap().0.clone())
        }
        fn describe(&self) -> String {
            "fake".into()
        }
    }

    fn set(fake: &Fake, content: &[u8], listed: Option<u64>) {
        *fake.content.lock().unwrap() = (content.to_vec(), listed);
    }

    #[tokio::test]
    async fn appends_rotations_lagging_copies_and_vanishing() {
        let fake = Fake { content: Mutex::new((b"one\n".to_vec(), None)) };
        let mut tail = Tailer::new(&fake, "a.log".into());
        assert_eq!(tail.poll().await.unwrap(), TailEvent::Appended(b"one\n".to_vec()));
        assert_eq!(tail.poll().await.unwrap(), TailEvent::Unchanged);
        set(&fake, b"one\ntwo\n", None);
        assert_eq!(tail.poll().await.unwrap(), TailEvent::Appended(b"two\n".to_vec()));
        // Listed bigger than the (cached) body: take what is there, get the rest later.
        set(&fake, b"one\ntwo\nthr", Some(16));
        assert_eq!(tail.poll().await.unwrap(), TailEvent::Appended(b"thr".to_vec()));
        set(&fake, b"one\ntwo\nthree\n", None);
        assert_eq!(tail.poll().await.unwrap(), TailEvent::Appended(b"ee\n".to_vec()));
        set(&fake, b"new\n", None);
        assert_eq!(tail.poll().await.unwrap(), TailEvent::Rotated(b"new\n".to_vec()));
        set(&fake, b"GONE", None);
        assert_eq!(tail.poll().await.unwrap(), TailEvent::Vanished);
    }
}
