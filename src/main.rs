fn main() {
    std::process::exit(kls_rec::cli::main());
}
