// SPDX-License-Identifier: MIT
#include "engine/run_html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "engine/run_outcome.h"
#include "engine/run_provenance.h"
#include "util/text.h"

namespace moa::engine {

namespace {

// One colour per agent of a layer (the source colour of its text in the next layer).
const char* const kColours[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#9c755f"};
constexpr std::size_t kColourCount = sizeof(kColours) / sizeof(kColours[0]);
const char* colour(std::size_t i) { return kColours[i % kColourCount]; }
} // namespace

const char* agent_colour(std::size_t i) { return colour(i); }

namespace {

// `in_text`: the text of an element, where a bidirectional control is shown as a marked span;
// elsewhere (an attribute, the <title>) as the same words without markup.
std::string esc(std::string_view s, bool in_text = false) {
    std::string out;
    out.reserve(s.size() + s.size() / 8);
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (const std::size_t len = static_cast<unsigned char>(c) >= 0xC2 ? text::utf8_sequence_at(s, i) : 0; len >= 2) {
            const unsigned cp = text::code_point_at(s, i, len);
            if (cp <= 0x9F) {
                // C1 controls mean nothing in a page, and a terminal showing the file may obey them.
                out += "\xEF\xBF\xBD";
            } else if (text::bidi_control(cp)) {
                // U+202E and its kind would make the text read in another order than it is
                // (Trojan Source): shown, not obeyed, as the terminal filter shows them.
                const std::string name = text::bidi_control_name(cp);
                out += in_text ? "<span class=\"ctl\" title=\"a bidirectional control character\">" + name + "</span>" : name;
            } else {
                out.append(s.substr(i, len));
            }
            i += len - 1;
            continue;
        }
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default:
            // NUL and the other C0 controls are not allowed in HTML text (a browser drops or
            // replaces them; ESC would be obeyed by a terminal showing the file): shown as
            // U+2400's control pictures, so the page says what the text held.
            if ((static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') || c == 0x7F) {
                const unsigned cp = c == 0x7F ? 0x2421u : 0x2400u + static_cast<unsigned char>(c);
                out += static_cast<char>(0xE0 | (cp >> 12));
                out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                out += static_cast<char>(0x80 | (cp & 0x3F));
            } else {
                out += c;
            }
        }
    }
    return out;
}

std::string percent(double share) { return std::to_string(static_cast<int>(std::lround(share * 100))) + "%"; }
std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}
std::string name(const AgentRecord& a) { return "L" + std::to_string(a.layer + 1) + "." + std::to_string(a.index + 1); }

const char* kStyle = R"(body{font:15px/1.5 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{margin-top:2em;border-bottom:1px solid #ccc}pre{white-space:pre-wrap}
.prompt{background:#f4f4f4;padding:.6em;border-radius:4px}
.answer{white-space:pre-wrap;border-left:4px solid #ddd;padding:.3em .8em;margin:.4em 0 1.2em}
.meta{color:#555;font-size:.9em}.ignored{color:#b00;font-weight:bold}.ctl{color:#b00;font-size:.8em}
mark{border-radius:3px;padding:0 1px;color:#000}.legend span{display:inline-block;margin-right:1em}
.swatch{display:inline-block;width:.9em;height:.9em;border-radius:2px;vertical-align:middle;margin-right:.3em}
svg text{font:12px system-ui,sans-serif}svg .share{fill:#111;font-weight:bold;paint-order:stroke;stroke:#fff;stroke-width:4px}table{border-collapse:collapse}td,th{padding:.2em .8em;text-align:left}
)";

// An answer with each sentence's main source coloured (whole sentences, or the matched word runs).
std::string highlighted(const std::string& text, const AgentProvenance& p, const std::vector<AgentRecord>& before) {
    struct Mark {
        eval::Span span;
        std::size_t agent;
        double share;
    };
    std::vector<Mark> marks;
    for (const auto& s : p.detail.sentences) {
        if (s.sources.empty()) continue;
        const auto& best = s.sources.front();
        const auto agent = static_cast<std::size_t>(p.detail_sources[best.source]);
        for (const auto& sp : best.in_b) marks.push_back({sp, agent, best.share});
    }
    std::sort(marks.begin(), marks.end(), [](const Mark& a, const Mark& b) { return a.span.begin < b.span.begin; });
    std::string out;
    std::size_t at = 0;
    for (const auto& m : marks) {
        if (m.span.begin < at || m.span.end > text.size()) continue;
        out += esc(std::string_view(text).substr(at, m.span.begin - at), true);
        out += "<mark style=\"background:" + std::string(colour(m.agent)) + "55\" title=\"" + percent(m.share) +
               " of this sentence comes from " + esc(name(before[m.agent])) + " " + esc(before[m.agent].model) + "\">";
        out += esc(std::string_view(text).substr(m.span.begin, m.span.end - m.span.begin), true);
        out += "</mark>";
        at = m.span.end;
    }
    out += esc(std::string_view(text).substr(std::min(at, text.size())), true);
    return out;
}

std::string graph(const RunRecord& r, const RunProvenance& prov) {
    const int col_w = 340, node_w = 170, node_h = 46, row_h = 70, pad = 20;
    std::size_t rows = 1;
    for (const auto& l : r.layers) rows = std::max(rows, l.agents.size());
    const int width = pad * 2 + static_cast<int>(r.layers.size()) * col_w - (col_w - node_w);
    const int height = pad * 2 + static_cast<int>(rows) * row_h;
    auto x = [&](std::size_t l) { return pad + static_cast<int>(l) * col_w; };
    auto y = [&](std::size_t k) { return pad + static_cast<int>(k) * row_h; };
    std::ostringstream o;
    o << "<svg width=\"" << width << "\" height=\"" << height << "\" viewBox=\"0 0 "
      << width << ' ' << height << "\" role=\"img\" aria-label=\"layers of the run\">\n";
    for (std::size_t l = 1; l < r.layers.size(); ++l)
        for (std::size_t k = 0; k < r.layers[l].agents.size(); ++k)
            for (const auto& s : prov.layers[l][k].sources) {
                const auto j = static_cast<std::size_t>(s.agent);
                const int x1 = x(l - 1) + node_w, y1 = y(j) + node_h / 2, x2 = x(l), y2 = y(k) + node_h / 2;
                const double share = s.share.value_or(0);
                const std::string label = s.share ? percent(*s.share) + " of " + name(r.layers[l].agents[k]) + " comes from " +
                                                        name(r.layers[l - 1].agents[j])
                                                  : "no share: " + s.missing;
                o << "<g><title>" << esc(label) << "</title><line x1=\"" << x1 << "\" y1=\"" << y1 << "\" x2=\"" << x2
                  << "\" y2=\"" << y2 << "\" stroke=\"" << colour(j) << "\" stroke-opacity=\"" << (s.share ? 0.85 : 0.25)
                  << "\" stroke-width=\"" << num(1 + 9 * share) << "\"" << (s.share ? "" : " stroke-dasharray=\"4 4\"")
                  << "/>";
                if (s.share)
                    o << "<text x=\"" << (x1 + (x2 - x1) / 4 - 10) << "\" y=\"" << (y1 + (y2 - y1) / 4 + 4)
                      << "\" class=\"share\">" << percent(*s.share) << "</text>";
                o << "</g>\n";
            }
    for (std::size_t l = 0; l < r.layers.size(); ++l)
        for (std::size_t k = 0; k < r.layers[l].agents.size(); ++k) {
            const auto& a = r.layers[l].agents[k];
            const auto& p = prov.layers[l][k];
            const bool ignored = p.ignored.value_or(false);
            std::string model = a.model.size() > 22 ? a.model.substr(0, 21) + "…" : a.model;
            o << "<g><title>" << esc(name(a) + " " + a.model + " — " + to_string(a.state) +
                                     (ignored ? " — ignored by the next layer" : ""))
              << "</title><rect x=\"" << x(l) << "\" y=\"" << y(k) << "\" width=\"" << node_w << "\" height=\"" << node_h
              << "\" rx=\"6\" fill=\"#fff\" stroke=\"" << (ignored ? "#b00" : colour(k)) << "\" stroke-width=\"2\""
              << (ignored ? " stroke-dasharray=\"5 3\"" : "") << "/><text x=\"" << x(l) + 8 << "\" y=\"" << y(k) + 18
              << "\">" << esc(name(a) + " " + model) << "</text><text x=\"" << x(l) + 8 << "\" y=\"" << y(k) + 36
              << "\" fill=\"" << (ignored ? "#b00" : "#555") << "\">"
              << esc(ignored ? "ignored" : p.final_share ? percent(*p.final_share) + " of the final answer" : to_string(a.state))
              << "</text></g>\n";
        }
    o << "</svg>\n";
    return o.str();
}

} // namespace

std::string to_html(const RunRecord& r) {
    const RunProvenance prov = compute_provenance(r);
    std::ostringstream o;
    o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta name=\"viewport\" "
         "content=\"width=device-width\">\n<title>"
      << esc(r.config_name) << " — run " << outcome_text(r) << "</title>\n<style>" << kStyle << "</style></head><body>\n";
    o << "<h1>" << esc(r.config_name) << " — run " << outcome_text(r) << "</h1>\n";
    for (const auto& m : r.input.conversation)
        o << "<p class=\"meta\">" << esc(m.role) << "</p><pre class=\"prompt\">" << esc(m.content, true) << "</pre>\n";
    o << "<h2>How the layers used each other</h2>\n<p>An edge A→B is labelled \"x% of B comes from A\": the share of B's "
         "words found in A, sentence by sentence with a word-level fallback. An answer the next layer took less than 5% "
         "from is marked ignored.</p>\n<p>Each share is measured for its source alone, so the shares of one answer can add up "
         "to more than 100%: a sentence that several sources say alike is found in each of them.</p>\n";
    o << graph(r, prov);
    o << "<table><tr><th>answer</th><th>comes from</th></tr>\n";
    for (std::size_t l = 1; l < r.layers.size(); ++l)
        for (std::size_t k = 0; k < r.layers[l].agents.size(); ++k) {
            const auto& b = r.layers[l].agents[k];
            o << "<tr><td>" << esc(name(b) + " " + b.model) << "</td><td>";
            bool first = true;
            for (const auto& s : prov.layers[l][k].sources) {
                const auto& a = r.layers[l - 1].agents[static_cast<std::size_t>(s.agent)];
                o << (first ? "" : "; ") << "<span class=\"swatch\" style=\"background:" << colour(static_cast<std::size_t>(s.agent))
                  << "\"></span>"
                  << (s.share ? esc(percent(*s.share) + " of " + name(b) + " comes from " + name(a))
                              : esc(name(a) + ": " + s.missing));
                first = false;
            }
            o << "</td></tr>\n";
        }
    o << "</table>\n";
    for (std::size_t l = 0; l < r.layers.size(); ++l) {
        o << "<h2>Layer " << l + 1 << (l + 1 == r.layers.size() && l > 0 ? " (aggregator)" : "") << "</h2>\n";
        if (l > 0) {
            o << "<p class=\"legend\">Coloured by where each sentence comes from: ";
            for (std::size_t j = 0; j < r.layers[l - 1].agents.size(); ++j)
                o << "<span><span class=\"swatch\" style=\"background:" << colour(j) << "\"></span>"
                  << esc(name(r.layers[l - 1].agents[j]) + " " + r.layers[l - 1].agents[j].model) << "</span>";
            o << "</p>\n";
        }
        for (std::size_t k = 0; k < r.layers[l].agents.size(); ++k) {
            const auto& a = r.layers[l].agents[k];
            const auto& p = prov.layers[l][k];
            o << "<h3><span class=\"swatch\" style=\"background:" << colour(k) << "\"></span>" << esc(name(a) + " " + a.model)
              << "</h3>\n<p class=\"meta\">" << esc(a.provider) << (a.demo ? " · offline demo, not a real model" : "") << " · "
              << to_string(a.state);
            if (p.final_share) o << " · " << percent(*p.final_share) << " of the final answer comes from it";
            if (p.ignored.value_or(false)) o << " · <span class=\"ignored\">ignored by the next layer</span>";
            o << "</p>\n";
            if (a.error) o << "<p class=\"ignored\">" << esc(*a.error, true) << "</p>\n";
            o << "<div class=\"answer\" style=\"border-color:" << colour(k) << "\">"
              << (l > 0 ? highlighted(a.text, p, r.layers[l - 1].agents) : esc(a.text, true)) << "</div>\n";
        }
    }
    if (r.final_text) o << "<h2>Final answer</h2>\n<div class=\"answer\">" << esc(*r.final_text, true) << "</div>\n";
    if (!r.error.empty()) o << "<h2>Error</h2>\n<p>" << esc(r.error, true) << "</p>\n";
    o << "</body></html>\n";
    return o.str();
}

} // namespace moa::engine
