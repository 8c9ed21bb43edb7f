# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kls_rec_global_optspecs
    string join \n h/help V/version
end

function __fish_kls_rec_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kls_rec_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kls_rec_using_subcommand
    set -l cmd (__fish_kls_rec_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kls-rec -n "__fish_kls_rec_needs_command" -s h -l help -d 'Print help'
complete -c kls-rec -n "__fish_kls_rec_needs_command" -s V -l version -d 'Print version'
complete -c kls-rec -n "__fish_kls_rec_needs_command" -f -a "record" -d 'Produce the recording files (and callbacks) the service would have produced'
complete -c kls-rec -n "__fish_kls_rec_needs_command" -f -a "splice" -d 'Join recordings of one stream into one file (like the service\'s CreateTask)'
complete -c kls-rec -n "__fish_kls_rec_needs_command" -f -a "inspect" -d 'Show what is inside inputs, or the decisions record would take (--rules)'
complete -c kls-rec -n "__fish_kls_rec_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -s o -l out-dir -d 'Output root; files go under record/{App}/{StreamName}/{format}/' -r -F
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l hls-segment -d 'HLS target segment length' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l hls-segments -d 'HLS segment format: MPEG-TS where it carries every track (H.264, AAC, MP3, AC-3, E-AC-3), else fMP4' -r -f -a "auto\t'MPEG-TS when it carries every track (H.264, AAC, MP3, AC-3, E-AC-3), fMP4 otherwise (HEVC included)'
ts\t'MPEG-TS segments (.ts)'
fmp4\t'Fragmented MP4 segments (init segment + .m4s)'"
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l formats -d 'Output formats, comma-separated: hls, mp4, flv' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l app -d 'App name for inputs that do not carry one [default: live]' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l stream -d 'Stream name for inputs that do not carry one [default: the file stem]' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l vdoid -d 'vdoid for inputs that do not carry one' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l start-time -d 'Wall clock of the first packet: Unix seconds, Unix ms, or RFC 3339' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l slice -d 'Slice length: a file is cut at the next keyframe after it' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l period -d 'Recording period, consulted when a push resumes [default: none]' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l splice-window -d 'Resumes within this gap are appended to the held file (0: never)' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l timeline -d 'Draw pushes, gaps and files with their reasons: FILE.svg or FILE.html' -r -F
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l callback -d 'POST each callback here (retried; undelivered ones spooled for the next run)' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l upload -d 'Upload files to S3-compatible storage (credentials: AWS_* env, ~/.aws profile, roles)' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l endpoint -d 'S3 endpoint (KS3, MinIO, AWS …) [default: AWS_ENDPOINT_URL, the AWS profile\'s endpoint_url, else AWS for the region]' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l region -d 'S3 region [default: AWS_REGION, AWS_DEFAULT_REGION, the AWS profile\'s, else us-east-1]' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l multipart-threshold -d 'Upload files larger than this in parts, e.g. 64MiB' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -s j -l jobs -d 'Streams recorded at once [default: the number of cores]' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l shard -d 'Only this share of the streams: K of N (0-based), by a stable hash' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l config -d 'Read settings from a TOML file (the flags\' names; flags and env win)' -r -F
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l color -d 'Colour the error: and warning: prefixes: auto (on a terminal, unless NO_COLOR is set)' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t''
never\t''"
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l callback-times -d 'Add starttime and endtime to HLS callbacks'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l dry-run -d 'Decide and print the files, write nothing'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l explain -d 'Print every decision with its reason on stderr'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l path-style -d 'Path-style S3 addressing [default: on for IP and localhost endpoints]'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l delete-after-upload -d 'Remove local files once uploaded'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l json -d 'Print a JSON summary of the run as the last line on stdout'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -l wait -d 'If another run holds the output root, wait for it to end instead of failing'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -s q -l quiet -d 'Less on stderr: -q no progress bar, -qq no warnings either (errors stay)'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -s v -l verbose -d 'More on stderr: a line per input read and per file written, terminal or not'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand record" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand splice" -l format -d 'Output format: mp4, flv or hls' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand splice" -s o -l out-dir -d 'Output root; files go under record/{App}/{StreamName}/{format}/' -r -F
complete -c kls-rec -n "__fish_kls_rec_using_subcommand splice" -l hls-segment -d 'HLS target segment length' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand splice" -l hls-segments -d 'HLS segment format: MPEG-TS where it carries every track (H.264, AAC, MP3, AC-3, E-AC-3), else fMP4' -r -f -a "auto\t'MPEG-TS when it carries every track (H.264, AAC, MP3, AC-3, E-AC-3), fMP4 otherwise (HEVC included)'
ts\t'MPEG-TS segments (.ts)'
fmp4\t'Fragmented MP4 segments (init segment + .m4s)'"
complete -c kls-rec -n "__fish_kls_rec_using_subcommand splice" -l app -d 'App name of the result [default: live]' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand splice" -l stream -d 'Stream name of the result [default: from the file names]' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand splice" -l endpoint -d 'S3 endpoint (KS3, MinIO, AWS …) [default: AWS_ENDPOINT_URL, the AWS profile\'s endpoint_url, else AWS for the region]' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand splice" -l region -d 'S3 region [default: AWS_REGION, AWS_DEFAULT_REGION, the AWS profile\'s, else us-east-1]' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand splice" -l config -d 'Read settings from a TOML file (the flags\' names; flags and env win)' -r -F
complete -c kls-rec -n "__fish_kls_rec_using_subcommand splice" -l color -d 'Colour the error: and warning: prefixes: auto (on a terminal, unless NO_COLOR is set)' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t''
never\t''"
complete -c kls-rec -n "__fish_kls_rec_using_subcommand splice" -l callback-times -d 'Add starttime and endtime to HLS callbacks'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand splice" -l in-order -d 'Join in the order given, not by the start times in the names'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand splice" -l json -d 'Print a JSON summary of the run as the last line on stdout'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand splice" -l wait -d 'If another run holds the output root, wait for it to end instead of failing'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand splice" -l path-style -d 'Path-style S3 addressing [default: on for IP and localhost endpoints]'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand splice" -s q -l quiet -d 'Less on stderr: -q no progress bar, -qq no warnings either (errors stay)'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand splice" -s v -l verbose -d 'More on stderr: a line per input read and per file written, terminal or not'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand splice" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand inspect" -l formats -d 'Output formats, comma-separated: hls, mp4, flv' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand inspect" -l app -d 'App name for inputs that do not carry one [default: live]' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand inspect" -l stream -d 'Stream name for inputs that do not carry one [default: the file stem]' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand inspect" -l vdoid -d 'vdoid for inputs that do not carry one' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand inspect" -l start-time -d 'Wall clock of the first packet: Unix seconds, Unix ms, or RFC 3339' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand inspect" -l slice -d 'Slice length: a file is cut at the next keyframe after it' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand inspect" -l period -d 'Recording period, consulted when a push resumes [default: none]' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand inspect" -l splice-window -d 'Resumes within this gap are appended to the held file (0: never)' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand inspect" -l timeline -d 'Draw pushes, gaps and files with their reasons: FILE.svg or FILE.html' -r -F
complete -c kls-rec -n "__fish_kls_rec_using_subcommand inspect" -l endpoint -d 'S3 endpoint (KS3, MinIO, AWS …) [default: AWS_ENDPOINT_URL, the AWS profile\'s endpoint_url, else AWS for the region]' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand inspect" -l region -d 'S3 region [default: AWS_REGION, AWS_DEFAULT_REGION, the AWS profile\'s, else us-east-1]' -r
complete -c kls-rec -n "__fish_kls_rec_using_subcommand inspect" -l config -d 'Read settings from a TOML file (the flags\' names; flags and env win)' -r -F
complete -c kls-rec -n "__fish_kls_rec_using_subcommand inspect" -l color -d 'Colour the error: and warning: prefixes: auto (on a terminal, unless NO_COLOR is set)' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t''
never\t''"
complete -c kls-rec -n "__fish_kls_rec_using_subcommand inspect" -l json -d 'Print ffprobe-shaped JSON, one object per input per line (with --rules: the run summary)'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand inspect" -l rules -d 'Print the decisions `record` would take (as record --dry-run --explain)'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand inspect" -l path-style -d 'Path-style S3 addressing [default: on for IP and localhost endpoints]'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand inspect" -s q -l quiet -d 'Less on stderr: -q no progress bar, -qq no warnings either (errors stay)'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand inspect" -s v -l verbose -d 'More on stderr: a line per input read and per file written, terminal or not'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand inspect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand help; and not __fish_seen_subcommand_from record splice inspect help" -f -a "record" -d 'Produce the recording files (and callbacks) the service would have produced'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand help; and not __fish_seen_subcommand_from record splice inspect help" -f -a "splice" -d 'Join recordings of one stream into one file (like the service\'s CreateTask)'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand help; and not __fish_seen_subcommand_from record splice inspect help" -f -a "inspect" -d 'Show what is inside inputs, or the decisions record would take (--rules)'
complete -c kls-rec -n "__fish_kls_rec_using_subcommand help; and not __fish_seen_subcommand_from record splice inspect help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
