// SPDX-License-Identifier: MIT
#include "experiment/result_chart.h"

#include <QFile>
#include <QGraphicsLayout>
#include <QFontMetricsF>
#include <QGraphicsLineItem>
#include <QGraphicsSimpleTextItem>
#include <QJsonArray>
#include <QLabel>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPainter>
#include <QSaveFile>
#include <QSvgGenerator>
#include <QTextDocumentFragment>
#include <QToolTip>
#include <QVBoxLayout>
#include <QCoreApplication>
#include <QtCharts/QCategoryAxis>
#include <QtCharts/QLegend>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QLineSeries>
#include <QtCharts/QLogValueAxis>
#include <QtCharts/QPolarChart>
#include <QtCharts/QScatterSeries>
#include <QtCharts/QValueAxis>
#include <algorithm>
#include <cmath>

#include "common/money.h"
#include "util/resources.h"

namespace moa::ui {

namespace {
// A label on the chart's own background, so a line passing under it does not strike it through.
class BackedText : public QGraphicsSimpleTextItem {
public:
    BackedText(const QString& text, const QChart* chart, QGraphicsItem* parent)
        : QGraphicsSimpleTextItem(text, parent) {
        setZValue(1000); // above the series
        // The chart's background colour, mostly opaque (the dark theme's background is a
        // gradient: the middle of it); the text in the colour of the chart's title.
        const QBrush bg = chart->backgroundBrush();
        QColor c = bg.color();
        if (const QGradient* g = bg.gradient(); g && !g->stops().isEmpty()) {
            const QColor a = g->stops().front().second, b = g->stops().back().second;
            c = QColor((a.red() + b.red()) / 2, (a.green() + b.green()) / 2, (a.blue() + b.blue()) / 2);
        }
        c.setAlpha(220);
        background_ = QBrush(c);
        setBrush(chart->titleBrush());
    }
    void paint(QPainter* p, const QStyleOptionGraphicsItem* o, QWidget* w) override {
        p->fillRect(boundingRect().adjusted(-2, 0, 2, 0), background_);
        QGraphicsSimpleTextItem::paint(p, o, w);
    }

private:
    QBrush background_;
};

// `full` shortened to `width`: at its end, else in its middle, else at its start, whichever
// leaves a text that could not be the shortening of another label in `all` (two labels "Demo
// eight —…" tell nothing apart). The whole text when no shortening is unambiguous.
QString distinctElided(const QString& full, const std::vector<QString>& all, const QFontMetricsF& fm, qreal width) {
    const QChar dots(0x2026);
    for (const Qt::TextElideMode mode : {Qt::ElideRight, Qt::ElideMiddle, Qt::ElideLeft}) {
        const QString e = fm.elidedText(full, mode, width);
        if (e == full) return full;
        const qsizetype cut = e.indexOf(dots);
        if (cut < 0) continue;
        const QString head = e.left(cut), tail = e.mid(cut + 1);
        // Ambiguous when so few characters are left that the text says nothing (only "…"), or
        // another label starts and ends as this one does.
        if (head.trimmed().isEmpty() && tail.trimmed().isEmpty()) continue;
        const bool ambiguous = std::any_of(all.begin(), all.end(), [&](const QString& o) {
            return o != full && o.startsWith(head) && o.endsWith(tail) && o.size() >= head.size() + tail.size();
        });
        if (!ambiguous) return e;
    }
    return full;
}

// Each point's label beside its point: right or left, above or below, or centred over or under
// it; where those are taken (points that share a y value, or the offline demo's points that all
// stand at one $0 mark), the next free row further up or down. No two labels overlap, none
// covers a point, all stay in the plot; a label set off from its point gets a leader line to it.
// Error bars are obstacles too (`obstacles`: their rectangles): a label never lies across one.
// Labels side by side keep kGap pixels apart, so two names never read as one.
void placePointLabels(QChart* chart, std::vector<std::pair<QGraphicsSimpleTextItem*, QPointF>>& labels,
                      const std::vector<QRectF>& obstacles) {
    const QRectF area = chart->plotArea();
    constexpr qreal kMarker = 7;   // half a point marker's size, and a little
    constexpr qreal kNear = 12;    // a label set further off than its first places gets a leader line
    constexpr qreal kGap = 6;      // between two labels side by side
    constexpr qreal max_share = 0.85; // of the plot's width, for a label
    std::vector<QRectF> taken = obstacles, placed;
    for (const auto& [t, at] : labels) taken.emplace_back(at - QPointF(kMarker, kMarker), QSizeF(2 * kMarker, 2 * kMarker));
    // Top to bottom, left to right: stacked labels keep their points' order.
    std::stable_sort(labels.begin(), labels.end(), [](const auto& a, const auto& b) {
        return a.second.y() != b.second.y() ? a.second.y() < b.second.y() : a.second.x() < b.second.x();
    });
    const QColor line_colour = chart->titleBrush().color();
    std::vector<QString> all;
    for (const auto& l : labels) all.push_back(l.first->data(3).toString());
    for (const auto& [t, at] : labels) {
        const QString full = t->data(3).toString();
        QSizeF size;
        QPointF pos;
        bool found = false, displaced = false;
        // Shortened further when no place is free at the first width (a long name in a crowd).
        for (const qreal share : {max_share, 0.5, 0.3, 0.12}) {
            // The last width only in a crowd of error bars on a small chart: the name whole in the tooltip.
            const qreal floor = share < 0.2 ? 40 : 80;
            const QString shown = distinctElided(full, all, QFontMetricsF(t->font()), std::max<qreal>(floor, area.width() * share));
            if (t->text() != shown) t->setText(shown);
            size = t->boundingRect().size();
            const qreal row = size.height() + 2;
            auto free = [&](QPointF p) {
                const QRectF r(p, size);
                return area.contains(r) && std::none_of(taken.begin(), taken.end(), [&](const QRectF& o) { return o.intersects(r); }) &&
                       std::none_of(placed.begin(), placed.end(),
                                    [&](const QRectF& o) { return o.adjusted(-kGap, -1, kGap, 1).intersects(r); });
            };
            pos = at + QPointF(9, -size.height() - 2);
            for (int k = 0; k < 80 && !found; ++k) {
                displaced = k > 0;
                const qreal up = -k * row, down = k * row;
                const QPointF tries[] = {at + QPointF(9, -size.height() - 2 + up), at + QPointF(9, 2 + down),
                                         at + QPointF(-9 - size.width(), -size.height() - 2 + up), at + QPointF(-9 - size.width(), 2 + down),
                                         at + QPointF(-size.width() / 2, -size.height() - kMarker - 2 + up),
                                         at + QPointF(-size.width() / 2, kMarker + 2 + down)};
                for (const QPointF& p : tries)
                    if (free(p)) {
                        pos = p;
                        found = true;
                        break;
                    }
            }
            if (found) break;
        }
        if (!found) // nowhere free in the plot (a crowd): kept in the plot at least
            pos = QPointF(std::clamp(pos.x(), area.left(), std::max(area.left(), area.right() - size.width())),
                          std::clamp(pos.y(), area.top(), std::max(area.top(), area.bottom() - size.height())));
        t->setPos(pos);
        const QRectF r(pos, size);
        placed.push_back(r);
        const QPointF nearest(std::clamp(at.x(), r.left(), r.right()), std::clamp(at.y(), r.top(), r.bottom()));
        // A label moved off its first places is joined to its point, always: a row or more away
        // it may stand nearer another point.
        if (!found || displaced || QLineF(at, nearest).length() > kNear) {
            auto* leader = new QGraphicsLineItem(QLineF(at, nearest), chart);
            leader->setPen(QPen(line_colour, 1));
            leader->setZValue(999); // under the labels, over the series
            leader->setData(1, QStringLiteral("leader"));
        }
    }
}
} // namespace

std::vector<QString> point_labels(const std::vector<QString>& names, QString* common) {
    if (common) common->clear();
    if (names.size() < 2) return names;
    std::vector<QStringList> words;
    for (const auto& n : names) words.push_back(n.split(' ', Qt::SkipEmptyParts));
    qsizetype shortest = words[0].size();
    for (const auto& w : words) shortest = std::min(shortest, w.size());
    auto same_at = [&](auto at) {
        return std::all_of(words.begin(), words.end(), [&](const QStringList& w) { return w[at(w)] == words[0][at(words[0])]; });
    };
    qsizetype pre = 0, suf = 0;
    while (pre < shortest && same_at([&](const QStringList&) { return pre; })) ++pre;
    // Every label keeps at least one word of its own.
    while (pre + suf < shortest && same_at([&](const QStringList& w) { return w.size() - 1 - suf; })) ++suf;
    // A shared end kept when without it a label would be a bare number ("8" for "8 proposers").
    auto bare_number = [&] {
        return std::any_of(words.begin(), words.end(), [&](const QStringList& w) {
            bool number = false;
            w.mid(pre, w.size() - pre - suf).join(' ').toDouble(&number);
            return number;
        });
    };
    if (suf > 0 && bare_number()) suf = 0;
    if (pre + suf >= shortest) return names; // a name that is all shared words: whole names
    if (pre == 0 && suf == 0) return names;
    std::vector<QString> out;
    for (const auto& w : words) out.push_back(w.mid(pre, w.size() - pre - suf).join(' '));
    for (std::size_t i = 0; i < out.size(); ++i)
        for (std::size_t j = i + 1; j < out.size(); ++j)
            if (out[i] == out[j]) return names; // the same name twice: whole names
    if (common) {
        QStringList c = words[0].mid(0, pre);
        c << QStringLiteral("…");
        c << words[0].mid(words[0].size() - suf);
        *common = c.join(' ');
    }
    return out;
}

std::vector<ReferenceLine> paper_references(QString* source) {
    QFile f(QString::fromStdString(resources::dir() + "/reference/moa_paper.json"));
    std::vector<ReferenceLine> out;
    if (!f.open(QIODevice::ReadOnly)) return out;
    auto doc = QJsonDocument::fromJson(f.readAll()).object();
    if (source) *source = doc["source"].toString();
    for (const auto& v : doc["alpacaeval2"].toArray()) {
        auto o = v.toObject();
        out.push_back({o["name"].toString(), o["lc_win_rate"].toDouble()});
    }
    return out;
}

std::optional<XAxis> x_axis_from_string(const QString& s) {
    if (s == "cost") return XAxis::Cost;
    if (s == "tflops") return XAxis::Tflops;
    if (s == "ttft") return XAxis::Ttft;
    if (s == "wall") return XAxis::Wall;
    return std::nullopt;
}

namespace {
QString x_label(XAxis x) {
    switch (x) {
    case XAxis::Cost: return "Cost per instance (USD)";
    case XAxis::Tflops: return "TFLOPs per instance (critical path)";
    case XAxis::Ttft: return "Time to first token (s, median per prompt)";
    case XAxis::Wall: return "Wall time (s, median per prompt)";
    }
    return {};
}
QString x_title(XAxis x) {
    switch (x) {
    case XAxis::Cost: return ": cost against quality";
    case XAxis::Tflops: return ": TFLOPs against quality";
    case XAxis::Ttft: return ": time to first token against quality";
    case XAxis::Wall: return ": wall time against quality";
    }
    return {};
}
// The point's x, if the configuration has one on this axis (a time needs stored answers, and
// the first-token time answers stored since it is kept).
std::optional<double> x_of(const eval::ConfigResult& c, XAxis x) {
    switch (x) {
    case XAxis::Cost: return c.cost_per_instance;
    case XAxis::Tflops: return c.tflops_per_instance;
    case XAxis::Ttft: return c.median_ttft_ms ? std::optional<double>(*c.median_ttft_ms / 1000.0) : std::nullopt;
    case XAxis::Wall: return c.median_wall_ms ? std::optional<double>(*c.median_wall_ms / 1000.0) : std::nullopt;
    }
    return std::nullopt;
}
} // namespace

ChartSpec chart_spec(const eval::ExperimentResults& r, XAxis x, bool log_x, bool with_paper) {
    ChartSpec s;
    const bool pairwise = r.mode == "pairwise";
    // LC only when every configuration has one: a mixed axis would compare LC with raw win rates.
    bool all_lc = pairwise && !r.configs.empty();
    for (const auto& c : r.configs) all_lc = all_lc && c.lc_win_rate.has_value();
    // A few words, drawn whole along a short plot's height ("LC (unregularised) w…" at 1024×700):
    // which LC it is, and against what, on the caption line (it wraps).
    s.y_label = all_lc ? QObject::tr("LC win rate (%)")
                : pairwise ? QObject::tr("Win rate (%)")
                : r.mode == "single" ? QObject::tr("Grade (1-10)") : QObject::tr("Skill grade (1-5)");
    QStringList caption;
    if (all_lc && r.lc_label != "LC")
        caption << QObject::tr("LC win rates against %1, %2: no baseline-variant rows regularise the length term.")
                       .arg(QString::fromStdString(r.reference_name), QString::fromStdString(r.lc_label));
    else if (pairwise)
        caption << QObject::tr("%1 against %2.").arg(all_lc ? QObject::tr("LC win rates") : QObject::tr("Win rates"),
                                                     QString::fromStdString(r.reference_name));
    else if (r.mode != "single")
        caption << QObject::tr("Skill grade: the mean of the FLASK skill grades.");
    s.x_label = x_label(x);
    s.log_x = log_x;
    s.title = QString::fromStdString(r.name) + x_title(x);
    // Verdicts of the demo judge are not a real judge's: the chart says whose they are.
    // On a line of its own (in one line it was elided at the window's size); the title is then
    // rich text, so the experiment's name is escaped.
    if (!r.judge_note.empty()) s.title = s.title.toHtmlEscaped() + "<br>judged by the " + QString::fromStdString(r.judge_note).toHtmlEscaped();
    std::vector<double> xs, ys;
    // Configurations whose cost is unknown (no price for any of their calls): never "$0".
    QStringList cost_unknown, no_verdict;
    for (const auto& c : r.configs) {
        // Nothing judged yet (and nothing failed): there is no result to plot, not a 0% at $0.
        if (c.judged == 0 && c.failed == 0) continue;
        // Judged but no verdict could be read: no point at 0% (nor a frontier mark), named in the caption.
        if (!eval::has_verdict(c, r.mode)) {
            no_verdict << QString::fromStdString(c.name);
            continue;
        }
        const auto px = x_of(c, x);
        if (!px) continue;
        const bool unknown_cost = x == XAxis::Cost && !c.cost_complete && !(c.cost_per_instance > 0);
        if (unknown_cost) cost_unknown << QString::fromStdString(c.name);
        ChartPoint p;
        p.name = QString::fromStdString(c.name);
        // Part of its cost known: plotted at that part, a lower bound, and labelled so.
        if (x == XAxis::Cost && !c.cost_complete && c.cost_per_instance > 0) {
            p.name += QObject::tr(" (cost ≥ %1)").arg(format_money(c.cost_per_instance));
            p.x_text = QString::fromStdString(eval::cost_text(c));
        }
        if (unknown_cost) p.x_text = QObject::tr("cost unknown");
        p.source = QString::fromStdString(c.source);
        p.x = *px;
        p.y = all_lc ? *c.lc_win_rate : pairwise ? c.win.win_rate : c.score.value_or(0);
        p.y_err = all_lc ? c.lc_standard_error.value_or(0) : pairwise ? c.win.standard_error : c.score_se.value_or(0);
        p.degraded = c.degraded;
        if (c.degraded) {
            QStringList lines;
            for (std::size_t k = 0; k < c.degraded_notes.size() && k < 6; ++k) lines << QString::fromStdString(c.degraded_notes[k]);
            if (c.degraded_notes.size() > 6) lines << QObject::tr("… (the Instances tab lists all)");
            p.degraded_note = QObject::tr("%1 of %2 answers made with dropped agents:\n%3")
                                  .arg(c.degraded)
                                  .arg(c.generated)
                                  .arg(lines.join('\n'));
        }
        s.points.push_back(p);
        xs.push_back(p.x);
        ys.push_back(p.y);
    }
    const bool all_zero = !s.points.empty() &&
                          std::all_of(s.points.begin(), s.points.end(), [](const ChartPoint& p) { return p.x == 0; });
    if (x == XAxis::Cost && all_zero && !cost_unknown.isEmpty()) {
        // No price for anything plotted: one "cost unknown" mark, not $0 (that would read as free).
        s.all_free = true;
        s.log_x = false;
        s.single_mark = QObject::tr("cost unknown");
        s.x_label = QObject::tr("Cost per instance");
        caption << (cost_unknown.size() == static_cast<int>(s.points.size())
                        ? QObject::tr("Cost per instance: unknown for every configuration (no price for their models).")
                        : QObject::tr("Cost per instance: unknown or $0 (some models have no price)."));
    } else if (x == XAxis::Cost && all_zero) {
        s.all_free = true;
        s.log_x = false;
        s.single_mark = QObject::tr("$0 (nothing billed)");
        s.x_label = QObject::tr("Cost per instance");
        caption << QObject::tr("Cost per instance: $0 for every configuration (nothing billed: the offline demo, or free models).");
    } else if (x == XAxis::Cost && !cost_unknown.isEmpty()) {
        // Some known, some unknown: the unknown ones are left off the cost axis, and named.
        for (std::size_t i = s.points.size(); i-- > 0;)
            if (cost_unknown.contains(s.points[i].name)) {
                s.points.erase(s.points.begin() + static_cast<std::ptrdiff_t>(i));
                xs.erase(xs.begin() + static_cast<std::ptrdiff_t>(i));
                ys.erase(ys.begin() + static_cast<std::ptrdiff_t>(i));
            }
        caption << QObject::tr("Cost per instance — not plotted, cost unknown: %1.").arg(cost_unknown.join(", "));
    } else if (x == XAxis::Tflops && all_zero) {
        // No parameter count for any model: "TFLOPs unknown", not an axis of 0..1e-06.
        s.all_free = true;
        s.log_x = false;
        s.single_mark = QObject::tr("TFLOPs unknown");
        s.x_label = QObject::tr("TFLOPs per instance");
        caption << QObject::tr("TFLOPs per instance: unknown for every configuration (no parameter counts for their models).");
    }
    if (!no_verdict.isEmpty()) caption << QObject::tr("Not plotted, no readable verdict: %1.").arg(no_verdict.join(", "));
    int degraded = 0;
    for (const auto& p : s.points) degraded += p.degraded > 0;
    if (degraded)
        caption << QObject::tr("Ringed: made with dropped agents (%1 of %2 configurations), not the whole configuration's result.")
                       .arg(degraded)
                       .arg(s.points.size());
    s.caption = caption.join(' ');
    bool any_judged = false;
    for (const auto& c : r.configs) any_judged = any_judged || c.judged > 0 || c.failed > 0;
    if (s.points.empty())
        s.empty_note = r.configs.empty() ? QObject::tr("No configurations in this experiment")
                       : !any_judged     ? QObject::tr("Not run yet: run the experiment to plot each configuration here")
                                         : QObject::tr("No configuration has a value on this axis yet");
    // The frontier of this x axis (cost, TFLOPs or time).
    for (auto i : eval::pareto_front(xs, ys)) s.points[i].frontier = true;
    if (with_paper && pairwise) {
        for (auto& ref : paper_references(&s.reference_source))
            // The paper's headline rows: its three MoA setups and the strongest single model.
            if (ref.name.startsWith("MoA") || ref.name.startsWith("GPT-4 Omni")) s.references.push_back(ref);
        s.references_caveat =
            "not directly comparable: the paper's LC is AlpacaEval 2.0's (805 instructions, GPT-4 Turbo as judge and "
            "reference, length term regularised by baseline variants); these points are " +
            (all_lc ? QString::fromStdString(r.lc_label) : QString("raw win rates")) +
            " with this experiment's prompts, judge and reference";
    }
    return s;
}

ResultChart::ResultChart(QWidget* parent) : QWidget(parent), view_(new QChartView(this)), caption_(new QLabel(this)) {
    auto* l = new QVBoxLayout(this);
    l->setContentsMargins(0, 0, 0, 0);
    l->addWidget(view_, 1);
    caption_->setWordWrap(true);
    caption_->setObjectName(QStringLiteral("chart_caption"));
    caption_->setContentsMargins(8, 0, 8, 4);
    caption_->hide();
    l->addWidget(caption_);
    view_->setRenderHint(QPainter::Antialiasing);
    view_->setAccessibleName(tr("Cost and quality chart"));
    setSpec({});
}

void ResultChart::resizeEvent(QResizeEvent* e) {
    QWidget::resizeEvent(e);
    fitTitle();
}

// The chart draws a title wider than itself shortened ("TFLOPs against qu..."): each of its
// lines is wrapped at word boundaries to the chart's width instead.
void ResultChart::fitTitle() {
    QChart* chart = view_->chart();
    if (!chart) return;
    const QFontMetricsF fm(chart->titleFont());
    // The chart's margins and the title's own, and a little.
    const qreal room = std::max<qreal>(80, view_->width() - chart->margins().left() - chart->margins().right() - 40);
    // A title with a line break is rich text (its words HTML-escaped); one without is plain,
    // and escaped here when it is broken.
    const bool rich = spec_.title.contains("<br>");
    QStringList lines;
    for (const QString& line : spec_.title.split("<br>")) {
        // Measured as drawn.
        auto width = [&](const QString& text) {
            return fm.horizontalAdvance(rich ? QTextDocumentFragment::fromHtml(text).toPlainText() : text);
        };
        QString current;
        for (const QString& word : line.split(' ')) {
            const QString longer = current.isEmpty() ? word : current + ' ' + word;
            if (!current.isEmpty() && width(longer) > room) {
                lines << current;
                current = word;
            } else {
                current = longer;
            }
        }
        lines << current;
    }
    if (!rich && lines.size() > 1)
        for (QString& l : lines) l = l.toHtmlEscaped();
    const QString title = lines.join("<br>");
    if (chart->title() != title) chart->setTitle(title);
}

void ResultChart::setSpec(const ChartSpec& spec) {
    spec_ = spec;
    {
        std::vector<QString> names;
        for (const auto& p : spec.points) names.push_back(p.name);
        QString common;
        point_labels(names, &common);
        if (!common.isEmpty())
            spec_.caption = tr("Configurations: %1 (each label is the rest of its name).").arg(common) +
                            (spec.caption.isEmpty() ? QString() : " " + spec.caption);
    }
    caption_->setText(spec_.caption);
    caption_->setVisible(!spec_.caption.isEmpty());
    auto* chart = new QChart();
    chart->setTitle(spec.title);
    // Room for the plot on a small screen (at 1024×700 it was under 100 px high): the chart's
    // own padding kept small.
    chart->setMargins(QMargins(4, 2, 8, 2));
    chart->layout()->setContentsMargins(0, 0, 0, 0);
    chart->setBackgroundRoundness(0);
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setTheme(palette().color(QPalette::Window).lightness() < 128 ? QChart::ChartThemeDark : QChart::ChartThemeLight);

    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (const auto& p : spec.points) {
        xmin = std::min(xmin, p.x), xmax = std::max(xmax, p.x);
        ymin = std::min(ymin, p.y - p.y_err), ymax = std::max(ymax, p.y + p.y_err);
    }
    for (const auto& r : spec.references) ymin = std::min(ymin, r.y), ymax = std::max(ymax, r.y);
    const bool percent = spec.y_label.contains('%');
    if (spec.points.empty()) xmin = 0, xmax = 1, ymin = 0, ymax = 100;
    if (spec.log_x) {
        xmin = std::max(xmin, 1e-9);
        xmax = std::max(xmax, xmin * 10);
        xmin /= 2, xmax *= 2;
    } else {
        double pad = (xmax - xmin) * 0.15 + (xmax == xmin ? std::max(std::abs(xmax) * 0.5, 1e-6) : 0);
        xmin = std::max(0.0, xmin - pad), xmax += pad;
    }
    double ypad = (ymax - ymin) * 0.12 + (ymax == ymin ? 5 : 0);
    ymin -= ypad, ymax += ypad;
    // A percentage axis runs past 0 and 100 by 5, so a point at 0% or 100% is drawn whole, not
    // cut in half by the plot's edge; its ticks stay on round values from 0 (below).
    double ytick = 0;
    if (percent) {
        ymin = std::max(-5.0, ymin), ymax = std::min(105.0, ymax);
        const double span = ymax - ymin;
        ytick = span > 60 ? 20 : span > 25 ? 10 : span > 10 ? 5 : 2;
        ymin = ymin < 0 ? -5 : std::floor(ymin / ytick) * ytick;
        ymax = ymax > 100 ? 105 : std::ceil(ymax / ytick) * ytick;
        if (ymax - ymin < ytick) ymax = ymin + ytick;
    }

    QAbstractAxis* ax;
    if (spec.all_free) {
        // One mark in the middle: the points stand at $0 with room for their labels.
        auto* a = new QCategoryAxis();
        xmin = -1, xmax = 1;
        a->setRange(xmin, xmax);
        a->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
        a->append(spec.single_mark.isEmpty() ? tr("$0 (nothing billed)") : spec.single_mark, 0);
        ax = a;
    } else if (spec.log_x) {
        auto* a = new QLogValueAxis();
        a->setBase(10);
        a->setLabelFormat("%.2g");
        a->setRange(xmin, xmax);
        ax = a;
    } else {
        auto* a = new QValueAxis();
        a->setLabelFormat("%.3g");
        a->setRange(xmin, xmax);
        a->applyNiceNumbers();
        xmin = a->min(), xmax = a->max();
        ax = a;
    }
    ax->setTitleText(spec.x_label);
    auto* ay = new QValueAxis();
    ay->setTitleText(spec.y_label);
    ay->setRange(ymin, ymax);
    if (ytick > 0) {
        ay->setTickType(QValueAxis::TicksDynamic);
        ay->setTickAnchor(0);
        ay->setTickInterval(ytick);
        ay->setLabelFormat("%.0f");
    } else {
        ay->applyNiceNumbers();
    }
    chart->addAxis(ax, Qt::AlignBottom);
    chart->addAxis(ay, Qt::AlignLeft);
    auto attach = [&](QAbstractSeries* s) {
        chart->addSeries(s);
        s->attachAxis(ax);
        s->attachAxis(ay);
    };

    // Reference lines (the paper's published results) first, so points draw on top.
    bool first_ref = true;
    for (const auto& r : spec.references) {
        auto* line = new QLineSeries();
        line->setName(r.name + QString(" %1").arg(r.y, 0, 'f', 1));
        line->append(xmin, r.y);
        line->append(xmax, r.y);
        QPen pen(QColor(150, 150, 150));
        pen.setStyle(Qt::DashLine);
        pen.setWidthF(1);
        line->setPen(pen);
        attach(line);
        if (first_ref) {
            // One legend entry for all the reference lines.
            chart->legend()->markers(line).first()->setLabel(
                spec.references_caveat.isEmpty() ? tr("MoA paper (published LC)")
                                                 : tr("MoA paper (published LC; not directly comparable: other prompts, judge, "
                                                      "reference and LC fit)"));
            first_ref = false;
        } else {
            chart->legend()->markers(line).first()->setVisible(false);
        }
        auto* label = new BackedText(line->name(), chart, chart);
        label->setBrush(QColor(130, 130, 130));
        QFont f = label->font();
        f.setPointSizeF(f.pointSizeF() * 0.8);
        label->setFont(f);
        label->setData(0, r.y);
        label->setData(1, QStringLiteral("ref"));
    }
    // Error bars.
    for (const auto& p : spec.points) {
        if (p.y_err <= 0) continue;
        auto* bar = new QLineSeries();
        bar->append(p.x, p.y - p.y_err);
        bar->append(p.x, p.y + p.y_err);
        bar->setPen(QPen(QColor(90, 90, 90), 1.5));
        attach(bar);
        chart->legend()->markers(bar).first()->setVisible(false);
    }
    // The frontier.
    std::vector<const ChartPoint*> front;
    for (const auto& p : spec.points)
        if (p.frontier) front.push_back(&p);
    std::sort(front.begin(), front.end(), [](auto a, auto b) { return a->x < b->x; });
    if (front.size() > 1) {
        auto* f = new QLineSeries();
        f->setName(tr("Pareto frontier"));
        for (auto* p : front) f->append(p->x, p->y);
        QPen pen(QColor(220, 90, 30), 2);
        f->setPen(pen);
        attach(f);
    }
    // The legend draws each entry as its series looks: the frontier a line, the points on it
    // diamonds, the dominated ones circles (all were the same square).
    chart->legend()->setMarkerShape(QLegend::MarkerShapeFromSeries);
    auto* on = new QScatterSeries();
    on->setName(tr("on the frontier"));
    on->setMarkerShape(QScatterSeries::MarkerShapeRotatedRectangle);
    on->setMarkerSize(15);
    on->setColor(QColor(220, 90, 30));
    auto* off = new QScatterSeries();
    off->setName(tr("dominated"));
    off->setMarkerShape(QScatterSeries::MarkerShapeCircle);
    off->setMarkerSize(11);
    off->setColor(QColor(60, 110, 200));
    for (const auto& p : spec.points) (p.frontier ? on : off)->append(p.x, p.y);
    attach(on);
    attach(off);
    if (off->count() == 0) chart->legend()->markers(off).first()->setVisible(false);
    if (on->count() == 0) chart->legend()->markers(on).first()->setVisible(false);
    // A ring around the points whose answers were made without some agents: not the whole
    // configuration's result.
    auto* partial = new QScatterSeries();
    partial->setName(tr("made with dropped agents"));
    partial->setObjectName(QStringLiteral("degraded"));
    partial->setMarkerShape(QScatterSeries::MarkerShapeCircle);
    partial->setMarkerSize(21);
    partial->setBrush(Qt::NoBrush);
    partial->setPen(QPen(QColor(200, 30, 30), 2.5));
    for (const auto& p : spec.points)
        if (p.degraded > 0) partial->append(p.x, p.y);
    attach(partial);
    if (partial->count() == 0) chart->legend()->markers(partial).first()->setVisible(false);

    auto find = [this](const QPointF& pt) -> const ChartPoint* {
        for (const auto& p : spec_.points)
            if (std::abs(p.x - pt.x()) <= 1e-12 * std::max(1.0, std::abs(p.x)) && std::abs(p.y - pt.y()) < 1e-9) return &p;
        return nullptr;
    };
    for (auto* s : {on, off, partial}) {
        connect(s, &QScatterSeries::hovered, this, [this, find](const QPointF& pt, bool state) {
            const auto* p = find(pt);
            if (!state || !p) return QToolTip::hideText();
            QToolTip::showText(QCursor::pos(), QString("<b>%1</b><br>%2: %3<br>%4: %5 ± %6%7")
                                                   .arg(p->name.toHtmlEscaped(), spec_.x_label)
                                                   .arg(p->x, 0, 'g', 4)
                                                   .arg(spec_.y_label.toHtmlEscaped())
                                                   .arg(p->y, 0, 'f', 2)
                                                   .arg(p->y_err, 0, 'f', 2)
                                                   .arg(p->frontier ? tr("<br>on the Pareto frontier") : QString()) +
                                                   (p->degraded ? "<br><b>" + p->degraded_note.toHtmlEscaped().replace("\n", "<br>") + "</b>"
                                                                : QString()));
        });
        connect(s, &QScatterSeries::clicked, this, [this, find](const QPointF& pt) {
            if (const auto* p = find(pt)) emit configurationClicked(p->source);
        });
    }
    // Labels next to every point (elided to a share of the plot's width; the whole name in the tooltip).
    // Each says what differs from the others' names; what they share is said once, on the caption.
    std::vector<QString> names;
    for (const auto& p : spec.points) names.push_back(p.name);
    const std::vector<QString> shown = point_labels(names);
    for (std::size_t i = 0; i < spec.points.size(); ++i) {
        const auto& p = spec.points[i];
        auto* label = new BackedText(shown[i], chart, chart);
        label->setData(0, p.x);
        label->setData(2, p.y);
        label->setData(1, QStringLiteral("point"));
        label->setData(3, shown[i]);
        label->setToolTip(p.name);
    }
    // Nothing to plot: a sentence saying why, not empty axes with arbitrary ranges and a legend
    // of series with no points.
    if (spec.points.empty() && spec.references.empty()) {
        ax->setVisible(false);
        ay->setVisible(false);
        chart->legend()->setVisible(false);
        auto* note = new QGraphicsSimpleTextItem(spec.empty_note.isEmpty() ? tr("Nothing to plot yet") : spec.empty_note, chart);
        note->setBrush(chart->titleBrush());
        note->setData(1, QStringLiteral("empty"));
    }
    auto place = [this, chart, on, xmax]() {
        std::vector<QGraphicsSimpleTextItem*> refs;
        std::vector<std::pair<QGraphicsSimpleTextItem*, QPointF>> labels;
        std::vector<QGraphicsItem*> old_leaders;
        for (auto* item : chart->childItems()) {
            if (item->data(1).toString() == "leader") old_leaders.push_back(item);
            auto* t = dynamic_cast<QGraphicsSimpleTextItem*>(item);
            if (!t) continue;
            if (t->data(1).toString() == "point") {
                labels.emplace_back(t, chart->mapToPosition(QPointF(t->data(0).toDouble(), t->data(2).toDouble()), on));
            } else if (t->data(1).toString() == "empty") {
                t->setPos(chart->plotArea().center() - t->boundingRect().center());
            } else if (t->data(1).toString() == "ref") {
                QPointF at = chart->mapToPosition(QPointF(xmax, t->data(0).toDouble()), on);
                t->setPos(at + QPointF(-t->boundingRect().width() - 4, -t->boundingRect().height()));
                refs.push_back(t);
            }
        }
        for (auto* item : old_leaders) delete item;
        std::vector<QRectF> bars;
        for (const auto& p : spec_.points)
            if (p.y_err > 0) {
                const QPointF a = chart->mapToPosition(QPointF(p.x, p.y + p.y_err), on), b = chart->mapToPosition(QPointF(p.x, p.y - p.y_err), on);
                bars.emplace_back(QPointF(a.x() - 2, std::min(a.y(), b.y())), QPointF(a.x() + 2, std::max(a.y(), b.y())));
            }
        placePointLabels(chart, labels, bars);
        // Labels of close lines would overlap: push each one above the next.
        std::sort(refs.begin(), refs.end(), [](auto* a, auto* b) { return a->pos().y() > b->pos().y(); });
        for (std::size_t i = 1; i < refs.size(); ++i) {
            double limit = refs[i - 1]->pos().y() - refs[i]->boundingRect().height();
            if (refs[i]->pos().y() > limit) refs[i]->setPos(refs[i]->pos().x(), limit);
        }
    };
    connect(chart, &QChart::plotAreaChanged, chart, place);
    auto* old = view_->chart();
    view_->setChart(chart);
    delete old;
    fitTitle();
    place();
}

QString ResultChart::to_csv(const ChartSpec& spec) {
    auto esc = [](const QString& s) {
        if (!s.contains(',') && !s.contains('"') && !s.contains('\n')) return s;
        QString t = s;
        t.replace("\"", "\"\"");
        return "\"" + t + "\"";
    };
    QString out = "configuration," + esc(spec.x_label) + "," + esc(spec.y_label) + ",error,frontier,source,with_dropped_agents\n";
    for (const auto& p : spec.points)
        out += esc(p.name) + "," + (p.x_text.isEmpty() ? QString::number(p.x, 'g', 10) : esc(p.x_text)) + "," + QString::number(p.y, 'g', 10) + "," +
               QString::number(p.y_err, 'g', 10) + "," + (p.frontier ? "true" : "false") + "," + esc(p.source) + "," +
               QString::number(p.degraded) + "\n";
    return out;
}

void ResultChart::paint(QPainter& p, QSize size) {
    // The chart's own scene, so rendering works for a widget that is not on screen; the caption
    // (the axes' long notes) wrapped on the lines under it, as in the window.
    QChart* chart = view_->chart();
    QRectF caption_box;
    if (!spec_.caption.isEmpty()) {
        p.setFont(font());
        caption_box = p.boundingRect(QRectF(12, 0, size.width() - 24, size.height()), Qt::TextWordWrap, spec_.caption);
    }
    const QSizeF chart_size(size.width(), size.height() - (caption_box.isEmpty() ? 0 : caption_box.height() + 8));
    chart->setGeometry(QRectF(QPointF(0, 0), chart_size));
    QCoreApplication::processEvents();
    chart->scene()->render(&p, QRectF(QPointF(0, 0), chart_size), chart->geometry());
    if (!caption_box.isEmpty()) {
        p.setPen(chart->titleBrush().color());
        p.drawText(QRectF(12, chart_size.height(), size.width() - 24, caption_box.height() + 8), Qt::TextWordWrap, spec_.caption);
    }
}

std::optional<QString> ResultChart::save(const QString& path, QSize size) {
    QSaveFile f(path);
    const QString low = path.toLower();
    if (low.endsWith(".csv")) {
        if (!f.open(QIODevice::WriteOnly | QIODevice::Unbuffered)) return path + ": " + f.errorString();
        f.write(to_csv(spec_).toUtf8());
        if (!f.commit()) return path + ": " + f.errorString();
        return std::nullopt;
    }
    resize(size);
    view_->resize(size);
    view_->chart()->resize(size);
    fitTitle(); // to the picture's width (a widget not shown has no resize event)
    // Lay out once at the final size so labels land next to their points.
    view_->chart()->setGeometry(QRectF(QPointF(0, 0), size));
    QCoreApplication::processEvents();
    if (low.endsWith(".svg")) {
        if (!f.open(QIODevice::WriteOnly | QIODevice::Unbuffered)) return path + ": " + f.errorString();
        QSvgGenerator gen;
        gen.setOutputDevice(&f);
        gen.setSize(size);
        gen.setViewBox(QRect(QPoint(0, 0), size));
        gen.setTitle(QTextDocumentFragment::fromHtml(QString(spec_.title).replace("<br>", " — ")).toPlainText());
        gen.setDescription(spec_.reference_source);
        QPainter p(&gen);
        paint(p, size);
        p.end();
        if (!f.commit()) return path + ": " + f.errorString();
        return std::nullopt;
    }
    if (!low.endsWith(".png")) return path + ": choose a file ending in .png, .svg or .csv";
    QImage img(size, QImage::Format_ARGB32);
    img.fill(Qt::white);
    QPainter p(&img);
    p.setRenderHint(QPainter::Antialiasing);
    paint(p, size);
    p.end();
    if (!f.open(QIODevice::WriteOnly | QIODevice::Unbuffered)) return path + ": " + f.errorString();
    if (!img.save(&f, "PNG")) return path + ": the image could not be encoded";
    if (!f.commit()) return path + ": " + f.errorString();
    return std::nullopt;
}

QWidget* make_skills_radar(const eval::ExperimentResults& r, QWidget* parent) {
    auto* chart = new QPolarChart();
    chart->setTitle(QObject::tr("Skill grades (1-5), FLASK skills"));
    std::vector<std::string> skills;
    for (const auto& c : r.configs)
        for (const auto& [s, _] : c.skills)
            if (std::find(skills.begin(), skills.end(), s) == skills.end()) skills.push_back(s);
    auto* angular = new QCategoryAxis();
    angular->setRange(0, std::max<std::size_t>(1, skills.size()));
    angular->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    for (std::size_t i = 0; i < skills.size(); ++i) angular->append(QString::fromStdString(skills[i]), double(i));
    auto* radial = new QValueAxis();
    radial->setRange(0, 5);
    radial->setTickCount(6);
    chart->addAxis(angular, QPolarChart::PolarOrientationAngular);
    chart->addAxis(radial, QPolarChart::PolarOrientationRadial);
    for (const auto& c : r.configs) {
        if (c.skills.empty()) continue;
        auto* s = new QLineSeries();
        s->setName(QString::fromStdString(c.name));
        for (std::size_t i = 0; i < skills.size(); ++i) {
            auto it = c.skills.find(skills[i]);
            s->append(double(i), it == c.skills.end() ? 0 : it->second);
        }
        if (!skills.empty()) {
            auto it = c.skills.find(skills[0]);
            s->append(double(skills.size()), it == c.skills.end() ? 0 : it->second);
        }
        chart->addSeries(s);
        s->attachAxis(angular);
        s->attachAxis(radial);
    }
    auto* v = new QChartView(chart, parent);
    v->setRenderHint(QPainter::Antialiasing);
    v->setAccessibleName(QObject::tr("Skill grades radar chart"));
    return v;
}

} // namespace moa::ui
