// SPDX-License-Identifier: MIT
// Each subcommand's usage, for `moa COMMAND --help` (and `moa help COMMAND`).
#include <algorithm>
#include <string_view>

#include "cli/cli.h"

namespace moa::cli {

namespace {
struct Usage {
    const char* command;
    const char* text;
};

const Usage kUsages[] = {
    {"run",
     "usage: moa run --config FILE (--prompt TEXT | --prompt-file FILE|-) [--system TEXT] [--json] [--events] [--quiet] [--no-history]\n"
     "               [--allow-outside-files] [--raw]\n"
     "\n"
     "Runs one prompt through a Mixture-of-Agents configuration and prints the final answer.\n"
     "  --config FILE        a *.moa.json file or a built-in preset name (moa presets lists them)\n"
     "  --prompt TEXT        the user prompt; or --prompt-file FILE to read it from a file (- reads standard input)\n"
     "  --system TEXT        a system prompt for the first layer\n"
     "  --json               print the whole run record as JSON\n"
     "  --events             stream the run's events as JSON lines\n"
     "  --quiet              print only the final answer\n"
     "  --no-history         do not record the run in the history database\n"
     "  --allow-outside-files  let the configuration read files (its template) outside its own folder:\n"
     "                       any file you can read goes into the prompt sent to the configuration's\n"
     "                       servers and into the history (keys the run resolves are redacted; /proc,\n"
     "                       /sys and /dev are refused); use it only for configurations you trust\n"
     "  --raw                write model text as it came; by default its control characters (terminal\n"
     "                       escapes) are shown as symbols, on a terminal and into pipes and files\n"},
    {"validate",
     "usage: moa validate FILE... [--allow-outside-files]\n"
     "\n"
     "Checks configuration files (or preset names); every problem is printed as file:line: /pointer: message.\n"},
    {"presets",
     "usage: moa presets [NAME]\n"
     "\n"
     "Lists the built-in presets, or prints the preset NAME as JSON.\n"},
    {"models",
     "usage: moa models --config FILE --provider NAME [--json]\n"
     "\n"
     "Lists the models the provider NAME of a configuration offers (asks its /models endpoint).\n"},
    {"serve",
     "usage: moa serve --config FILE [--config FILE ...] [--host 127.0.0.1] [--port N] [--api-key-env NAME]\n"
     "                 [--max-runs N] [--keepalive-ms N] [--hold-ms N] [--no-record | --record-max-bytes N]\n"
     "                 [--max-connections N] [--header-timeout-ms N] [--body-timeout-ms N]\n"
     "                 [--allow-host NAME ...] [--expose-upstream-errors]\n"
     "\n"
     "Serves configurations as an OpenAI-compatible chat completions endpoint (model = configuration name).\n"
     "  --api-key-env NAME   require the bearer key held in environment variable NAME\n"
     "  --max-runs N         runs at once; more are refused with 429\n"
     "  --record-max-bytes N messages one run leaves in the history (default 1048576; 0: no cap)\n"
     "  --no-record          record nothing in the history (also --no-history)\n"
     "  --body-timeout-ms N  a request's body must arrive within N ms of its headers (default 30000)\n"
     "  --allow-host NAME    also accept requests whose Host header is NAME (others get 403: DNS rebinding)\n"
     "  --expose-upstream-errors  tell clients which agent failed and why (by default: a generic upstream error)\n"},
    {"eval",
     "usage: moa eval --experiment FILE [--db PATH] [--lc-variants] [--plan] [--json] [--quiet]\n"
     "\n"
     "Runs an experiment (*.moa-experiment.json) and prints its results; finished work is kept and reused.\n"
     "  --db PATH            results and response cache (default $MOA_EXPERIMENT_DB or .../experiments.sqlite)\n"
     "  --lc-variants        regularise LC as AlpacaEval does: ask the reference model for a concise and a verbose\n"
     "                       answer to each prompt and judge both (2 answers + 2 judge calls per prompt; the count\n"
     "                       and estimated cost are printed before the first call); needs a reference configuration\n"
     "  --plan               print those extra calls and their estimated cost, and run nothing\n"
     "The judge \"offline-demo-judge\" is a built-in stand-in that counts words; it is not a real judge.\n"},
    {"chart",
     "usage: moa chart --experiment FILE --out FILE.png|.svg|.csv [--x cost|tflops|ttft|wall] [--log-x] [--paper] [--db PATH]\n"
     "\n"
     "Draws an experiment's quality against cost (or TFLOPs) with its Pareto frontier.\n"},
    {"sweep",
     "usage: moa sweep --base CONFIG --kind proposers|layers|aggregator|samples|ranker|latency --out DIR --judge CONFIG\n"
     "                 (--reference CONFIG | --outputs FILE) [--max N] [--models a,b] [--prompts starter|FILE]\n"
     "                 [--sample N] [--seed N] [--judge-mode pairwise|single]\n"
     "\n"
     "Writes the MoA paper's ablations of a base configuration and an experiment over them into DIR.\n"
     "--kind latency: barrier, staircase streaming (chunks of 16 and 64 tokens) and quorum n-1 variants.\n"},
    {"stats",
     "usage: moa stats --annotations FILE [--difficulty FILE] [--baseline-variants FILE] [--json]\n"
     "\n"
     "Win rates and length-controlled win rates from AlpacaEval annotation files.\n"},
    {"history",
     "usage: moa history [--search TEXT] [--limit N] [--db PATH] [--json] [--no-check] [--raw]\n"
     "       moa history show ID [--json | --markdown | --html] [--db PATH] [--raw]\n"
     "\n"
     "Lists recorded runs (newest first), or shows one run whole.\n"},
};
} // namespace

std::optional<std::string> command_usage(const std::string& command) {
    for (const auto& u : kUsages)
        if (command == u.command) return std::string(u.text);
    return std::nullopt;
}

std::string synopses() {
    // Each command's synopsis lines (up to its first blank line), so the overview never drifts from
    // `moa COMMAND --help`: "usage: " becomes two spaces, continuation lines lose the same width.
    std::string out;
    const std::string lead = "usage: ";
    for (const auto& u : kUsages) {
        std::string_view text = u.text;
        while (!text.empty()) {
            const auto nl = text.find('\n');
            std::string_view line = text.substr(0, nl);
            text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
            if (line.empty()) break;
            if (line.substr(0, lead.size()) == lead) {
                out += "  ";
                out += line.substr(lead.size());
            } else {
                const auto spaces = line.find_first_not_of(' ');
                const auto keep = spaces == std::string_view::npos ? 0 : spaces;
                out += std::string(keep >= lead.size() - 2 ? keep - (lead.size() - 2) : keep, ' ');
                out += line.substr(keep);
            }
            out += '\n';
        }
    }
    return out;
}

bool wants_help(const std::vector<std::string>& args) {
    for (const auto& a : args) {
        if (a == "--") return false; // what follows is data, not options
        if (a == "--help" || a == "-h") return true;
    }
    return false;
}

} // namespace moa::cli
