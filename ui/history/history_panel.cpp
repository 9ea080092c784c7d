// SPDX-License-Identifier: MIT
#include "history/history_panel.h"

#include <QApplication>
#include <QComboBox>
#include <QDateTime>
#include <QGridLayout>
#include <QLineEdit>
#include <QListWidget>
#include <QPointer>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>

#include <thread>

#include "common/money.h"
#include "engine/run_outcome.h"
#include "run/run_view.h"
#include "store/history.h"

namespace moa::ui {

void load_stored_runs(const std::string& db, const QList<qint64>& ids, QObject* context,
                      std::function<void(const std::vector<StoredRun>&, const QString& problem)> done) {
    QPointer<QObject> ctx(context);
    std::thread([ctx, db, ids, done = std::move(done)] {
        std::vector<StoredRun> out;
        QString problem;
        if (auto h = store::History::open(db)) {
            for (qint64 id : ids) {
                auto rec = (*h)->load(id);
                auto snap = (*h)->config_snapshot(id);
                if (!rec || !snap) {
                    problem = (*h)->read_error().empty() ? QObject::tr("run %1 is not in the history").arg(id)
                                                         : QString::fromStdString((*h)->read_error());
                    continue;
                }
                auto cfg = config::load_config_text(snap->dump(), "history run " + std::to_string(id));
                if (!cfg.ok()) {
                    problem = QString::fromStdString(cfg.summary());
                    continue;
                }
                out.push_back({id, *cfg.config, *rec});
            }
        } else {
            problem = QString::fromStdString(h.error());
        }
        QMetaObject::invokeMethod(qApp, [ctx, out, problem, done] {
            if (ctx) done(out, problem);
        }, Qt::QueuedConnection);
    }).detach();
}

HistoryPanel::HistoryPanel(std::string db, QWidget* parent) : QWidget(parent), db_(std::move(db)) {
    auto* hv = new QVBoxLayout(this);
    hv->setContentsMargins(0, 0, 0, 0);
    search_ = new QLineEdit;
    search_->setPlaceholderText(tr("Search runs"));
    search_->setAccessibleName(tr("Search history"));
    list_ = new QListWidget;
    list_->setAccessibleName(tr("Run history"));
    list_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    list_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff); // lines are shortened with … instead
    list_->setTextElideMode(Qt::ElideRight);
    list_->setWordWrap(false);
    list_->setAlternatingRowColors(true);
    hv->addWidget(search_);
    hv->addWidget(list_);
    auto* hb = new QGridLayout;
    auto* replay = new QPushButton(tr("Replay"));
    replay->setAccessibleName(tr("Replay the selected run"));
    replay->setToolTip(tr("Watch the selected run stream again at its recorded pace, scaled by the speed"));
    speed_ = new QComboBox;
    speed_->setAccessibleName(tr("Replay speed"));
    for (double sp : {0.25, 0.5, 1.0, 2.0, 5.0, 20.0}) speed_->addItem(QStringLiteral("%1×").arg(sp), sp);
    speed_->setCurrentIndex(2);
    auto* rerun = new QPushButton(tr("Re-run"));
    rerun->setAccessibleName(tr("Run the selected run again"));
    rerun->setToolTip(tr("Run the selected run's configuration (as it was) on its prompt again"));
    auto* compare = new QPushButton(tr("Compare"));
    compare->setAccessibleName(tr("Compare the two selected runs"));
    compare->setToolTip(tr("Select two runs (Ctrl+click) to compare their figures and final answers"));
    hb->addWidget(replay, 0, 0);
    hb->addWidget(speed_, 0, 1);
    hb->addWidget(rerun, 1, 0);
    hb->addWidget(compare, 1, 1);
    hv->addLayout(hb);
    connect(replay, &QPushButton::clicked, this, [this] {
        auto ids = selectedRuns();
        if (!ids.isEmpty()) emit replayRequested(ids.first(), replaySpeed());
    });
    connect(speed_, &QComboBox::currentIndexChanged, this, [this] { emit replaySpeedChanged(replaySpeed()); });
    connect(rerun, &QPushButton::clicked, this, [this] {
        auto ids = selectedRuns();
        if (!ids.isEmpty()) emit rerunRequested(ids.first());
    });
    connect(compare, &QPushButton::clicked, this, [this] {
        auto ids = selectedRuns();
        if (ids.size() == 2) emit compareRequested(ids[1], ids[0]); // older on the left
        else emit message(tr("Select two runs to compare (Ctrl+click)"));
    });
    connect(search_, &QLineEdit::textChanged, this, &HistoryPanel::refresh);
    // Runs made elsewhere (`moa run`, another window) while this one is open: a cheap look now
    // and then, off the GUI thread, that redraws the list only when it changed.
    poll_ = new QTimer(this);
    poll_->setInterval(kPollMs);
    connect(poll_, &QTimer::timeout, this, [this] {
        if (isVisible()) refreshIfChanged();
    });
    poll_->start();
    connect(list_, &QListWidget::itemActivated, this, [this](QListWidgetItem* it) {
        if (it->data(Qt::UserRole).isValid()) emit openRequested(it->data(Qt::UserRole).toLongLong());
    });
}

double HistoryPanel::replaySpeed() const { return speed_->currentData().toDouble(); }

void HistoryPanel::refresh() { load(false); }

void HistoryPanel::refreshIfChanged() { load(true); }

void HistoryPanel::setPollInterval(int ms) {
    if (ms > 0) poll_->start(ms);
    else poll_->stop();
}

void HistoryPanel::load(bool only_if_changed) {
    if (db_.empty()) {
        list_->clear();
        list_->addItem(tr("(no history: the database could not be opened)"));
        return;
    }
    // The list is read on a thread of its own: the GUI thread never waits on the disk.
    const std::string path = db_, search = search_->text().toStdString();
    const int generation = ++generation_;
    if (!only_if_changed) full_pending_ = true;
    QPointer<HistoryPanel> self(this);
    std::thread([self, path, search, generation, only_if_changed] {
        std::vector<store::RunSummary> runs;
        std::string problem; // a read error is said, never taken for the end of the list
        if (auto h = store::History::open(path)) {
            if (auto listed = (*h)->list(search, 200)) runs = std::move(*listed);
            else problem = listed.error();
        } else {
            problem = h.error();
        }
        QMetaObject::invokeMethod(qApp, [self, runs, problem, generation, only_if_changed] {
            if (!self || self->generation_ != generation) return;
            struct Row {
                QString text, tip;
                qint64 id;
            };
            std::vector<Row> rows;
            for (const auto& r : runs) {
                // Three short lines, each shortened to the panel's width: what ran and how it
                // ended; when, what it cost and how long it took; the prompt on one line.
                const QDateTime when = QDateTime::fromString(QString::fromStdString(r.started_at), Qt::ISODate);
                const QString outcome = QString::fromStdString(engine::outcome_text({r.status, r.agents, r.dropped}));
                // The outcome before the name: a long name is cut at the panel's edge, never how the run ended.
                QString head = QStringLiteral("#%1 %2 · %3").arg(r.id).arg(outcome, QString::fromStdString(r.config_name));
                if (r.rerun_of) head += tr(" · re-run of #%1").arg(*r.rerun_of);
                // How long and what it cost first: the line is cut at the panel's edge, and it
                // cut the duration ("cost unknown · 5.…") after the date.
                const QString figures = QStringLiteral("%1 s · %2 · %3 · %4")
                                            .arg(r.wall_ms / 1000.0, 0, 'f', 1)
                                            .arg(cost_text(r.cost_complete, r.cost_usd),
                                                 when.isValid() ? when.toLocalTime().toString("yyyy-MM-dd HH:mm") : QString::fromStdString(r.started_at),
                                                 QString::fromStdString(r.source));
                const QString prompt = QString::fromStdString(r.prompt).left(300).simplified();
                rows.push_back({head + "\n" + figures + "\n" + prompt, head + "\n" + figures + "\n" + QString::fromStdString(r.prompt).left(2000), r.id});
            }
            // A check that found nothing new (a poll, the window activated) leaves the list, its
            // selection and its scroll position alone.
            QString stamp = QString::fromStdString(problem);
            for (const auto& row : rows) stamp += "\x1f" + row.text;
            if (only_if_changed && !self->full_pending_ && stamp == self->stamp_) return;
            self->full_pending_ = false;
            self->stamp_ = stamp;
            const QList<qint64> selected = self->selectedRuns();
            self->list_->clear();
            if (!problem.empty()) self->list_->addItem(QString::fromStdString(problem));
            for (const auto& row : rows) {
                auto* it = new QListWidgetItem(row.text);
                it->setToolTip(row.tip);
                it->setData(Qt::UserRole, static_cast<qlonglong>(row.id));
                self->list_->addItem(it);
                if (selected.contains(row.id)) it->setSelected(true);
            }
            emit self->refreshed();
        }, Qt::QueuedConnection);
    }).detach();
}

QList<qint64> HistoryPanel::selectedRuns() const {
    QList<qint64> ids;
    for (auto* it : list_->selectedItems())
        if (it->data(Qt::UserRole).isValid()) ids << it->data(Qt::UserRole).toLongLong();
    if (ids.isEmpty() && list_->currentItem() && list_->currentItem()->data(Qt::UserRole).isValid())
        ids << list_->currentItem()->data(Qt::UserRole).toLongLong();
    std::sort(ids.begin(), ids.end(), std::greater<>()); // newest first, as listed
    return ids;
}

} // namespace moa::ui
