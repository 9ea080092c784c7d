// SPDX-License-Identifier: MIT
#pragma once
// Prompt sets for experiments, and importers for the formats people already have: the
// project's starter set, AlpacaEval model_outputs.json, MT-Bench question.jsonl (two turns, with
// reference answers from a second file), FLASK's jsonl, and generic JSONL or CSV with a column
// mapping. Every problem names the file, the line and the field.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"

namespace moa::eval {

struct PromptItem {
    std::string id;                      // unique within the set
    std::string category;                // e.g. writing, math; may be empty
    std::vector<std::string> turns;      // user turns; most sets have one
    std::vector<std::string> references; // reference answers per turn (MT-Bench, FLASK), may be empty
    std::vector<std::string> skills;     // FLASK skills
    std::string source;                  // file:line
    std::optional<std::string> output;   // an imported output for this instruction (AlpacaEval)
    std::string generator;               // who wrote `output`
    const std::string& instruction() const { return turns.front(); }
};

struct PromptSet {
    std::string name;
    std::string format; // starter, alpaca_eval, mt_bench, flask, jsonl, csv
    std::vector<PromptItem> items;
    std::vector<std::string> warnings;
};

enum class PromptFormat { Auto, AlpacaEval, MtBench, Flask, Jsonl, Csv };
std::optional<PromptFormat> prompt_format_from_string(const std::string& s);

// Field names for generic JSONL/CSV: which column holds the id, category, instruction and a
// reference answer. Unset keys use the defaults (id, category, instruction, reference).
struct ColumnMapping {
    std::string id = "id";
    std::string category = "category";
    std::string instruction = "instruction";
    std::string reference = "reference";
};

Result<PromptSet> load_prompt_set(const std::string& path, PromptFormat format = PromptFormat::Auto,
                                  const ColumnMapping& mapping = {});
// The same from text already read; `path` names it in messages.
Result<PromptSet> parse_prompt_set(const std::string& text, const std::string& path, PromptFormat format = PromptFormat::Auto,
                                   const ColumnMapping& mapping = {});

// The starter set shipped in resources/prompts/starter.jsonl.
Result<PromptSet> load_starter_set();

// Adds MT-Bench reference answers (reference_answer/*.jsonl: question_id, choices[0].turns).
Result<int> attach_mt_bench_references(PromptSet& set, const std::string& path);

// A deterministic sample of `n` items (all when n is 0 or larger than the set), in set order.
PromptSet sample(const PromptSet& set, std::size_t n, std::uint64_t seed);

} // namespace moa::eval
