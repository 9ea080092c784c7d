// SPDX-License-Identifier: MIT
#pragma once
// The "Layers" walkthrough: a full window to step through a finished run one layer at a time in
// front of a class (large type, Next/Previous and the arrow keys). For each agent of the layer:
// what it was sent, each reference coloured like the answer it quotes and its number ("2.")
// linking back to that answer on the page before; its answer with every sentence coloured by
// the answer it comes from; and what changed from the layer before ("x% of this answer comes
// from L1.2", the sentences that are new). The numbers are engine::compute_provenance's,
// computed off the GUI thread, for a live run or a stored one alike.
#include <QWidget>

#include <memory>

#include "engine/run_provenance.h"
#include "engine/run_types.h"

class QLabel;
class QPushButton;
class QTextBrowser;

namespace moa::ui {

class LayersWalkthrough : public QWidget {
    Q_OBJECT
public:
    explicit LayersWalkthrough(const engine::RunRecord& r, QWidget* parent = nullptr);
    int layer() const { return layer_; }
    int layerCount() const { return static_cast<int>(record_.layers.size()); }
    void setLayer(int layer);
    // Goes to the page of `layer` and shows agent `index` there (what a reference's "2." does).
    void showAgent(int layer, int index);
    bool ready() const { return provenance_ != nullptr; }
    QTextBrowser* page() const { return page_; }
    QString pageHtml() const { return html_; }
    QString heading() const;
    // Sized to fit `available` (a screen's available area; 1400×900 at most) with a layout that
    // fits there: at 1024×700 the fixed 1400×900 window put "Next layer ▶" and "Its answer" off
    // the screen. F11 (or the button) shows it full screen, for a projector.
    void fitTo(const QRect& available);
    void toggleFullScreen();
    QPushButton* previousButton() const { return prev_; }
    QPushButton* nextButton() const { return next_; }
    // Answers longer than this are shown up to it on a page (with a note): a class does not read
    // megabytes, and the window must stay responsive.
    static constexpr std::size_t kShownBytes = 32 * 1024;

signals:
    void provenanceReady();

protected:
    void keyPressEvent(QKeyEvent* e) override;

private:
    void render();
    QString agentHtml(std::size_t l, std::size_t k) const;
    QString sentHtml(std::size_t l, std::size_t k) const;
    QString answerHtml(std::size_t l, std::size_t k) const;
    engine::RunRecord record_;
    std::shared_ptr<const engine::RunProvenance> provenance_;
    int layer_ = 0;
    QString html_;
    QLabel* title_;
    QLabel* legend_;
    QTextBrowser* page_;
    QPushButton* prev_;
    QPushButton* next_;
    QPushButton* full_;
};

} // namespace moa::ui
