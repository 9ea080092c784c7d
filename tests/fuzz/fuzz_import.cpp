// SPDX-License-Identifier: MIT
// libFuzzer target: every importer on arbitrary bytes. The first byte picks the reader
// (prompt-set formats, AlpacaEval annotations, CSV, difficulty/baseline-variant CSV, judge
// templates); the rest is the file's text. Must never crash; messages must name the file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "eval/alpaca_files.h"
#include "eval/judge.h"
#include "eval/prompt_set.h"
#include "util/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const int pick = data[0] % 9;
    std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
    auto named = [](const std::string& e) {
        if (e.rfind("f.x", 0) != 0 && e.find("f.x") == std::string::npos) std::abort(); // every message names the file
    };
    using moa::eval::PromptFormat;
    if (pick <= 5) {
        auto r = moa::eval::parse_prompt_set(text, "f.x", static_cast<PromptFormat>(pick));
        if (!r) named(r.error());
        else
            for (const auto& it : r->items)
                if (it.turns.empty()) std::abort(); // every item has an instruction
    } else if (pick == 6) {
        auto r = moa::eval::parse_annotations(text, "f.x");
        if (!r) named(r.error());
        else {
            auto wr = moa::eval::win_rate(r->judged());
            if (wr.n_total + wr.n_excluded != static_cast<int>(r->rows.size())) std::abort();
        }
    } else if (pick == 7) {
        auto r = moa::csv::parse(text, "f.x");
        if (!r) named(r.error());
        else
            for (const auto& row : r->rows)
                if (row.fields.size() != r->header.size()) std::abort();
    } else {
        auto r = moa::eval::parse_template(text, "f.x", {"instruction", "output_1", "output_2"});
        if (!r) named(r.error());
        else (void)moa::eval::fill(*r, {{"instruction", "i"}, {"output_1", "a"}, {"output_2", "b"}});
    }
    return 0;
}
