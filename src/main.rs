use clap::Parser;

fn main() {
    let cli = srt_streamer::cli::Cli::parse();
    std::process::exit(srt_streamer::cli::run(cli));
}
