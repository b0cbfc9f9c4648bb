//! The `byline` command: parses the command line and hands over to the library.

/// mimalloc: glibc's malloc and free were a sixth of rendering a page (perf under
/// `bench/archive`), and its arenas kept memory the archive's renders had freed.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    byline::cli::main()
}
