//! The one tokio runtime the core owns: object stores and the PostgreSQL and MySQL drivers run
//! on it; the public API (and the C ABI) blocks on it.

use std::sync::OnceLock;

/// The core's tokio runtime (object and database I/O); created on first use.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("datajoint-io")
            .enable_all()
            .build()
            .expect("starting the datajoint I/O runtime")
    })
}

/// Run a future to completion from blocking code, also when the caller is itself inside a
/// tokio runtime (then on a scoped helper thread instead of panicking).
pub fn block_on<F: std::future::Future + Send>(f: F) -> F::Output
where
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| {
            s.spawn(|| runtime().block_on(f))
                .join()
                .expect("I/O helper thread")
        })
    } else {
        runtime().block_on(f)
    }
}
