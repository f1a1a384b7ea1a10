//! Files that must survive a crash, and that hold secrets: created readable by their owner only
//! (0600 from the first byte), written whole to a unique temporary file, synced, and renamed over
//! the old one, whose previous version is kept as `.bak`; the directory is synced so the rename
//! itself survives a power cut.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// `path` with `suffix` appended to its file name.
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// Creates a new file readable and writable by its owner only; fails if it exists.
pub(crate) fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Replaces `path` with `bytes`, atomically and durably; the previous content, if any, becomes
/// `path.bak`. At every instant `path` holds either the old or the new content, whole.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = sibling(
        path,
        &format!(
            ".{}-{}.tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ),
    );
    let result = (|| {
        let mut f = create_private(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        if path.exists() {
            // A hard link keeps `path` in place while the backup is replaced atomically.
            let bak_tmp = sibling(&tmp, ".bak");
            std::fs::hard_link(path, &bak_tmp)?;
            std::fs::rename(&bak_tmp, sibling(path, ".bak"))?;
        }
        std::fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_replaces_whole_keeps_a_backup_and_is_private() {
        let dir = std::env::temp_dir().join(format!("localhub-persist-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("state.json");
        write_atomic(&file, b"one").expect("first");
        write_atomic(&file, b"two").expect("second");
        assert_eq!(std::fs::read(&file).expect("read"), b"two");
        assert_eq!(std::fs::read(sibling(&file, ".bak")).expect("bak"), b"one");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for f in [file.clone(), sibling(&file, ".bak")] {
                let mode = std::fs::metadata(&f).expect("meta").permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{}", f.display());
            }
        }
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(&dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(
            create_private(&file).is_err(),
            "create_private never overwrites"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
