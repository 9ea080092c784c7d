// SPDX-License-Identifier: MIT
#pragma once
// The cost/quality charts behind a thin adapter: a ChartSpec (plain data, built from results)
// becomes a Qt Charts view. Points are labelled, carry error bars, the Pareto frontier is drawn,
// the MoA paper's published results can be shown as reference lines; hover shows a tooltip and a
// click reports which configuration was clicked. Export: PNG, SVG and CSV.
#include <QString>
#include <QWidget>
#include <optional>
#include <vector>

#include "eval/experiment_results.h"

class QChart;
class QChartView;
class QLabel;
class QPainter;

namespace moa::ui {

struct ChartPoint {
    QString name;
    QString source; // the configuration file, opened on click
    double x = 0, y = 0;
    double y_err = 0;
    bool frontier = false;
    // The x as the CSV says it when the number alone would mislead: "cost unknown" (plotted at 0),
    // "≥ $0.0012" (only part of the cost priced: a lower bound).
    QString x_text = {};
    // Answers made without some of the configuration's agents: the point is ringed and its
    // tooltip names the agents and their errors.
    int degraded = 0;
    QString degraded_note = {};
};

struct ReferenceLine {
    QString name;
    double y = 0;
};

struct ChartSpec {
    QString title;
    QString x_label, y_label;
    bool log_x = false;
    // Every point costs $0 (the offline demo): the x axis is one "$0" mark, not a range of
    // millionths of a dollar with the points squashed against its edge.
    bool all_free = false;
    // With all_free: the one mark's text ("$0 (nothing billed)", "cost unknown", "TFLOPs unknown").
    QString single_mark;
    std::vector<ChartPoint> points;
    std::vector<ReferenceLine> references;
    QString reference_source;
    // Said with the reference lines: why they are not directly comparable with the points.
    QString references_caveat;
    // The long notes about the axes (what the y axis is against, why every cost is $0, which
    // configurations are not plotted), on a line under the chart that wraps: an axis title keeps
    // to a few words, so it is never elided.
    QString caption;
    // Shown in place of empty axes when there is no point (an experiment not run yet).
    QString empty_note;
};

// Cost or TFLOPs per instance, or the per-prompt median time to first token or wall time (s).
enum class XAxis { Cost, Tflops, Ttft, Wall };
// "cost", "tflops", "ttft", "wall" (as `moa chart --x` takes them).
std::optional<XAxis> x_axis_from_string(const QString& s);
// The x axis against LC win rate (pairwise) or score (graded judges).
ChartSpec chart_spec(const eval::ExperimentResults& r, XAxis x, bool log_x, bool with_paper);

// The point labels of configurations named alike ("Demo eight — 2 proposers" … "8 proposers"):
// each name without the words every name shares at its start and end, so the part that tells
// the points apart is what shows (elided, every label read the same "Demo eight —…"). The shared
// part, with "…" where the labels go, in `common` ("Demo eight — …"); empty when nothing is
// shared, or when stripping it would leave a label empty or two labels the same (then the names
// are returned whole).
std::vector<QString> point_labels(const std::vector<QString>& names, QString* common = nullptr);

// The MoA paper's AlpacaEval 2.0 LC win rates (resources/reference/moa_paper.json).
std::vector<ReferenceLine> paper_references(QString* source = nullptr);

class ResultChart : public QWidget {
    Q_OBJECT
public:
    explicit ResultChart(QWidget* parent = nullptr);
    void setSpec(const ChartSpec& spec);
    const ChartSpec& spec() const { return spec_; }
    QChartView* view() const { return view_; }

    // Renders at `size` without a display; by suffix: .png, .svg or .csv. Error text on failure.
    std::optional<QString> save(const QString& path, QSize size = QSize(1200, 800));
    static QString to_csv(const ChartSpec& spec);

signals:
    void configurationClicked(const QString& source);

protected:
    void resizeEvent(QResizeEvent* e) override;

private:
    void paint(QPainter& p, QSize size);
    void fitTitle();
    ChartSpec spec_;
    QChartView* view_;
    QLabel* caption_;
};

// A radar chart of FLASK skills, one polygon per configuration.
QWidget* make_skills_radar(const eval::ExperimentResults& r, QWidget* parent);

} // namespace moa::ui
