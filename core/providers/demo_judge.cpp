// SPDX-License-Identifier: MIT
// The offline demo judge: the demo provider's answer for a model named "demo-judge…". It reads
// the built-in judge templates (pairwise, single, skills) and decides by counting, openly,
// leaving out the offline demo's own label line. Pairwise: "says more in fewer words" — one
// point per different content word (four letters or more, not a filler word), one more for each
// of the instruction's key words among them, minus one point per six words of length (padding
// and repetition cost; equal points: the shorter answer wins). So an answer composed from more
// sources wins when it adds more than it lengthens, and loses when it only grows: the demo
// experiment's configurations get different win rates. Single and skills grades count the key
// words covered and the sentences. The verdicts are deterministic and say what they counted;
// it is not a real judge and says so.
#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "providers/demo_text.h"
#include "util/text.h"

namespace moa::providers {

namespace {

const char* const kLabel = "[offline demo judge, not a real judge: it counts words, it does not read]";

// Lower-case words of four letters or more that say what the instruction is about.
std::set<std::string> key_words(const std::string& s) {
    static const std::set<std::string> common = {
        "about", "also", "been", "could", "does", "each", "explain", "from", "give", "have", "into", "just", "like",
        "make", "more", "most", "much", "only", "other", "please", "should", "some", "such", "than", "that", "their",
        "them", "then", "there", "these", "they", "this", "those", "very", "what", "when", "where", "which", "while",
        "will", "with", "would", "write", "your"};
    std::set<std::string> out;
    std::string w;
    auto flush = [&] {
        if (w.size() >= 4 && !common.count(w)) out.insert(w);
        w.clear();
    };
    for (unsigned char c : s) {
        if (std::isalnum(c)) w += static_cast<char>(std::tolower(c));
        else flush();
    }
    flush();
    return out;
}

struct Counts {
    std::size_t used = 0, of = 0, sentences = 0, words = 0;
    std::size_t distinct = 0; // different content words (key_words of the answer)
};

// The offline demo's own label line ("[offline demo, not a real model: …] From the built-in
// notes on …, for "the question":") is not part of the answer: it quotes the question, so
// counting it gave every single-model answer the instruction's key words and the reference won
// every pairwise verdict of the demo experiment (a win rate of 0 for every configuration).
std::string without_demo_label(const std::string& answer) {
    const auto start = answer.find_first_not_of(" \n");
    if (start == std::string::npos || answer.compare(start, 13, "[offline demo") != 0) return answer;
    const auto nl = answer.find('\n', start);
    return nl == std::string::npos ? std::string() : answer.substr(nl + 1);
}

Counts count(const std::string& instruction, const std::string& full_answer) {
    Counts c;
    const std::string answer = without_demo_label(full_answer);
    auto want = key_words(instruction), have = key_words(answer);
    c.of = want.size();
    c.distinct = have.size();
    for (const auto& w : want) c.used += have.count(w);
    for (std::size_t i = 0; i < answer.size(); ++i)
        if ((answer[i] == '.' || answer[i] == '!' || answer[i] == '?') &&
            (i + 1 == answer.size() || answer[i + 1] == ' ' || answer[i + 1] == '\n'))
            ++c.sentences;
    std::istringstream in(answer);
    for (std::string w; in >> w;) ++c.words;
    return c;
}

// Pairwise points, in sixths so that they compare exactly: content words + key words − words / 6.
long long sixths(const Counts& c) {
    return 6 * static_cast<long long>(c.distinct + c.used) - static_cast<long long>(c.words);
}

std::string pairwise_points(const Counts& c) {
    std::ostringstream o;
    o.setf(std::ios::fixed);
    o.precision(1);
    o << c.distinct << " different content words + " << c.used << " key words − " << c.words << " words / 6 = "
      << static_cast<double>(sixths(c)) / 6.0 << " points";
    return o.str();
}

std::string describe(const Counts& c) {
    return "uses " + std::to_string(c.used) + " of the instruction's " + std::to_string(c.of) + " key words and has " +
           std::to_string(c.sentences) + " sentence" + (c.sentences == 1 ? "" : "s");
}

// The `<<<` … `>>>` blocks of the built-in templates, by the header line above each.
std::vector<std::pair<std::string, std::string>> blocks(const std::string& s) {
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t pos = 0;
    while ((pos = s.find("<<<\n", pos)) != std::string::npos) {
        std::size_t line_end = pos == 0 ? 0 : pos - 1;
        std::size_t line_start = line_end == 0 ? 0 : s.rfind('\n', line_end - 1);
        line_start = line_start == std::string::npos || line_end == 0 ? 0 : line_start + 1;
        std::string header = text::trim(std::string_view(s).substr(line_start, line_end - line_start));
        if (!header.empty() && header.back() == ':') header.pop_back();
        std::size_t body = pos + 4, end = s.find("\n>>>", body);
        if (end == std::string::npos) break;
        out.emplace_back(header, s.substr(body, end - body));
        pos = end + 4;
    }
    return out;
}

std::string last_user(const std::vector<Message>& messages) {
    for (auto it = messages.rbegin(); it != messages.rend(); ++it)
        if (it->role == "user") return it->content;
    return {};
}

} // namespace

std::string demo_judge_answer(const std::string& model, const std::vector<Message>& messages) {
    const std::string prompt = last_user(messages);
    std::string instruction;
    std::vector<std::pair<std::string, std::string>> responses; // label ("" for one response), text
    for (const auto& [header, body] : blocks(prompt)) {
        if (text::starts_with_ci(header, "Instruction")) instruction = body;
        else if (text::starts_with_ci(header, "Response")) responses.emplace_back(text::trim(header.substr(8)), body);
    }
    std::ostringstream o;

    // Pairwise: two labelled responses. Only the winner's label appears in the answer, so the
    // verdict reads the same way a real judge's "B" does.
    if (responses.size() == 2 && !responses[0].first.empty() && !responses[1].first.empty()) {
        Counts a = count(instruction, responses[0].second), b = count(instruction, responses[1].second);
        const long long pa = sixths(a), pb = sixths(b);
        bool first = pa != pb ? pa > pb : responses[0].second.size() <= responses[1].second.size();
        const auto& win = first ? responses[0] : responses[1];
        const Counts& w = first ? a : b;
        const Counts& l = first ? b : a;
        o << win.first << "\n\n" << kLabel << " It prefers the answer that says more in fewer words. Response " << win.first
          << " uses " << w.used << " of the instruction's " << w.of << " key words; " << pairwise_points(w)
          << ". The other response uses " << l.used << " of them; " << pairwise_points(l) << "." << (pa == pb ? " Equal points: the shorter answer wins." : "");
        return o.str();
    }

    // Skills (FLASK): one graded response and a list of "- Skill: criteria" lines.
    if (responses.size() == 1 && prompt.find("skills:") != std::string::npos) {
        Counts c = count(instruction, responses[0].second);
        double cover = c.of ? double(c.used) / double(c.of) : 1.0;
        o << kLabel << " The response " << describe(c) << " (" << c.words << " words).\n";
        std::istringstream lines(prompt.substr(prompt.find("skills:")));
        for (std::string line; std::getline(lines, line);) {
            if (line.rfind("- ", 0) != 0) continue;
            std::string skill = text::trim(line.substr(2, line.find(':') == std::string::npos ? std::string::npos : line.find(':') - 2));
            int g = 1 + static_cast<int>(cover * 3 + 0.5) + (c.sentences >= 4 ? 1 : 0);
            if (text::to_lower(skill) == "conciseness") g = c.words <= 120 ? 5 : c.words <= 250 ? 4 : c.words <= 400 ? 3 : 2;
            o << skill << ": " << std::clamp(g, 1, 5) << "\n";
        }
        return o.str();
    }

    // Single-answer grading: the conversation's last assistant turn, against the last question.
    auto at = prompt.rfind("[Assistant]\n");
    if (at != std::string::npos) {
        auto q = prompt.rfind("[User]\n", at);
        std::string question = q == std::string::npos ? std::string() : prompt.substr(q + 7, at - q - 7);
        std::string answer = prompt.substr(at + 12);
        if (auto ref = answer.find("\n[Reference answer"); ref != std::string::npos) answer.resize(ref);
        Counts c = count(question, answer);
        double cover = c.of ? double(c.used) / double(c.of) : 1.0;
        int grade = std::clamp(2 + static_cast<int>(cover * 5 + 0.5) + static_cast<int>(std::min<std::size_t>(c.sentences, 9) / 3), 1, 10);
        o << kLabel << " The answer " << describe(c) << ", so this stand-in gives " << grade << ".\nRating: [[" << grade << "]]";
        return o.str();
    }

    o << kLabel << " " << model
      << " reads only the built-in judge templates (pairwise, single, skills) and found none of them in this prompt.";
    return o.str();
}

} // namespace moa::providers
