// SPDX-License-Identifier: MIT
#pragma once
// Readers for AlpacaEval's files: annotations.json, model_outputs.json, an instruction
// difficulty CSV and the baseline-variant (`df_gamed`) CSV. Every problem names the file, the
// line and the field.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/alpaca_stats.h"
#include "util/result.h"

namespace moa::eval {

struct Annotation {
    int line = 0;
    std::string instruction;
    std::string output_1, output_2; // baseline, model
    std::string generator_1, generator_2;
    std::optional<double> preference; // empty when missing or unreadable (then in warnings)
    std::string raw_completion;       // the judge's raw answer, as JSON text when it is an object
};

struct AnnotationFile {
    std::vector<Annotation> rows;
    std::vector<std::string> warnings; // `file:line: /i/field: message`
    std::vector<Judged> judged() const;
    std::string generator() const; // the most common generator_2
};

Result<AnnotationFile> load_annotations(const std::string& path);
Result<AnnotationFile> parse_annotations(const std::string& text, const std::string& path);

struct ModelOutput {
    int line = 0;
    std::string instruction, output, generator, dataset;
};
Result<std::vector<ModelOutput>> load_model_outputs(const std::string& path);
Result<std::vector<ModelOutput>> parse_model_outputs(const std::string& text, const std::string& path);

// `index`, `instruction`, `difficulty`; the result is indexed by `index`.
Result<std::vector<double>> load_difficulty(const std::string& path);

// `preference` (in [0, 1]), `std_delta_len`, `instruction_difficulty`.
Result<std::vector<GamedRow>> load_baseline_variants(const std::string& path);

// A preference as AlpacaEval files hold it: a number or a string holding one, in [1, 2].
// Empty with `why` set otherwise.
std::optional<double> read_preference(const nlohmann::json& v, std::string& why);

} // namespace moa::eval
