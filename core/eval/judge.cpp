// SPDX-License-Identifier: MIT
#include "eval/judge.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "util/resources.h"
#include "util/text.h"

namespace moa::eval {

Result<JudgeTemplate> parse_template(const std::string& text, const std::string& name,
                                     const std::vector<std::string>& required) {
    JudgeTemplate t;
    t.name = name;
    const std::string open = "<|im_start|>", close = "<|im_end|>";
    if (text.find(open) != std::string::npos) {
        std::size_t pos = 0;
        while ((pos = text.find(open, pos)) != std::string::npos) {
            pos += open.size();
            std::size_t nl = text.find('\n', pos);
            if (nl == std::string::npos) return Error{name + ": a <|im_start|> block has no role line"};
            std::string role = text::trim(std::string_view(text).substr(pos, nl - pos));
            if (role != "system" && role != "user" && role != "assistant")
                return Error{name + ": unknown role \"" + role + "\" after <|im_start|> (system, user or assistant)"};
            std::size_t end = text.find(close, nl);
            if (end == std::string::npos) return Error{name + ": the " + role + " block is not closed with <|im_end|>"};
            std::string content = text.substr(nl + 1, end - nl - 1);
            while (!content.empty() && (content.back() == '\n' || content.back() == ' ')) content.pop_back();
            t.messages.push_back({role, content});
            pos = end + close.size();
        }
    } else {
        t.messages.push_back({"user", text::trim(text)});
    }
    if (t.messages.empty()) return Error{name + ": the template is empty"};
    for (const auto& r : required) {
        bool found = false;
        for (const auto& m : t.messages) found = found || m.content.find("{" + r + "}") != std::string::npos;
        if (!found) return Error{name + ": the template has no {" + r + "} placeholder"};
    }
    return t;
}

Result<JudgeTemplate> load_template(const std::string& path, const std::vector<std::string>& required) {
    std::string text;
    if (!text::read_file(path, text)) return Error{path + ": cannot read the judge template"};
    return parse_template(text, path, required);
}

Result<JudgeTemplate> builtin_template(const std::string& mode) {
    std::vector<std::string> req;
    if (mode == "pairwise") req = {"instruction", "output_1", "output_2"};
    else if (mode == "single") req = {"conversation"};
    else if (mode == "skills") req = {"instruction", "output", "skills"};
    else return Error{"unknown judge mode \"" + mode + "\" (pairwise, single or skills)"};
    auto t = load_template(resources::dir() + "/templates/judge_" + mode + ".txt", req);
    if (t) t->name = "built-in " + mode + " judge";
    return t;
}

std::vector<Message> fill(const JudgeTemplate& t, const std::vector<std::pair<std::string, std::string>>& values) {
    std::vector<Message> out;
    for (const auto& m : t.messages) {
        std::string s;
        const std::string& c = m.content;
        for (std::size_t i = 0; i < c.size();) {
            bool replaced = false;
            if (c[i] == '{')
                for (const auto& [k, v] : values)
                    if (c.compare(i + 1, k.size(), k) == 0 && i + 1 + k.size() < c.size() && c[i + 1 + k.size()] == '}') {
                        s += v;
                        i += k.size() + 2;
                        replaced = true;
                        break;
                    }
            if (!replaced) s += c[i++];
        }
        out.push_back({m.role, std::move(s)});
    }
    return out;
}

namespace {
std::string strip_label(std::string s) {
    s = text::trim(s);
    // One cut at each end: erasing the front a character at a time was quadratic in a long answer.
    const char* const marks = "\"'`*.()[]:";
    const auto last = s.find_last_not_of(marks);
    if (last == std::string::npos) return {};
    s.erase(last + 1);
    s.erase(0, s.find_first_not_of(marks));
    return text::trim(s);
}
bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }
bool is_alnum(char ch) { return is_digit(ch) || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z'); }
bool is_space(char ch) { return std::isspace(static_cast<unsigned char>(ch)) != 0; }
} // namespace

PairwiseVerdict read_pairwise(const JudgeTemplate& t, const std::string& answer,
                              const std::vector<providers::TokenLogprobs>& logprobs) {
    PairwiseVerdict v;
    if (!logprobs.empty()) {
        double p1 = 0, p2 = 0;
        const auto& first = logprobs.front();
        auto consider = [&](const std::string& tok, double lp) {
            std::string k = text::trim(tok);
            if (k == t.label_1) p1 += std::exp(lp);
            else if (k == t.label_2) p2 += std::exp(lp);
        };
        if (first.top.empty()) consider(first.token, first.logprob);
        for (const auto& [tok, lp] : first.top) consider(tok, lp);
        if (p1 + p2 > 0) {
            v.preference = 1.0 + p2 / (p1 + p2);
            v.method = "logprobs";
            return v;
        }
    }
    std::string a = strip_label(answer);
    if (a == t.label_1 || a == t.label_2) {
        v.preference = a == t.label_1 ? 1.0 : 2.0;
        v.method = "text";
        return v;
    }
    // "Response B", "B is better": the first standalone label wins when only one appears.
    // A hand-written scan: the judge's answer is model text, and std::regex recursed once per
    // character of a word, so one 150 KB word overflowed the stack (and the cached answer did so
    // on every re-run).
    bool has1 = false, has2 = false;
    for (std::size_t i = 0; i < answer.size();) {
        if (!is_alnum(answer[i])) {
            ++i;
            continue;
        }
        std::size_t e = i;
        while (e < answer.size() && is_alnum(answer[e])) ++e;
        const std::string_view w(answer.data() + i, e - i);
        has1 = has1 || w == t.label_1;
        has2 = has2 || w == t.label_2;
        i = e;
    }
    if (has1 != has2) {
        v.preference = has1 ? 1.0 : 2.0;
        v.method = "text";
        return v;
    }
    v.method = "unreadable";
    v.why = "the judge's answer names neither \"" + t.label_1 + "\" nor \"" + t.label_2 + "\" unambiguously: \"" +
            text::quote_start(answer, 60) + "\"";
    return v;
}

std::optional<double> read_rating(const std::string& answer) {
    // The first "[[ 7.5 ]]": "[[", spaces, digits with an optional fraction, spaces, "]]"; scanned
    // by hand (std::regex recursed per character of a long run of spaces or digits).
    for (std::size_t i = answer.find("[["); i != std::string::npos; i = answer.find("[[", i + 1)) {
        std::size_t j = i + 2;
        while (j < answer.size() && is_space(answer[j])) ++j;
        const std::size_t b = j;
        while (j < answer.size() && is_digit(answer[j])) ++j;
        if (j == b) continue;
        if (j + 1 < answer.size() && answer[j] == '.' && is_digit(answer[j + 1])) {
            j += 2;
            while (j < answer.size() && is_digit(answer[j])) ++j;
        }
        const std::size_t e = j;
        while (j < answer.size() && is_space(answer[j])) ++j;
        if (answer.compare(j, 2, "]]") != 0) continue;
        // strtod, not stod: a number of 200,000 digits is out of range, not an exception.
        const double v = std::strtod(answer.substr(b, e - b).c_str(), nullptr);
        if (v < 1 || v > 10) return std::nullopt;
        return v;
    }
    return std::nullopt;
}

std::vector<std::pair<std::string, double>> read_skill_grades(const std::string& answer, const std::vector<std::string>& skills) {
    std::vector<std::pair<std::string, double>> out;
    std::string low = text::to_lower(answer);
    for (const auto& s : skills) {
        std::string key = text::to_lower(s);
        auto pos = low.find(key);
        if (pos == std::string::npos) continue;
        std::size_t i = pos + key.size();
        while (i < low.size() && (low[i] == ':' || low[i] == ' ' || low[i] == '*' || low[i] == '-')) ++i;
        if (i < low.size() && low[i] >= '1' && low[i] <= '5') out.emplace_back(s, low[i] - '0');
    }
    return out;
}

const std::vector<std::string>& flask_skills() {
    static const std::vector<std::string> s = {
        "Logical Robustness", "Logical Correctness", "Logical Efficiency", "Factuality",
        "Commonsense Understanding", "Comprehension", "Insightfulness", "Completeness",
        "Metacognition", "Conciseness", "Readability", "Harmlessness"};
    return s;
}

} // namespace moa::eval
