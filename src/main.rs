use clap::Parser;

/// No subcommand opens the desktop app; subcommands are the headless CLI.
fn main() {
    let cli = srt_streamer::cli::Cli::parse();
    std::process::exit(srt_streamer::cli::run(cli));
}
