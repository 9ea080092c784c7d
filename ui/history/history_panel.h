// SPDX-License-Identifier: MIT
#pragma once
// The history dock: the stored runs, newest first, searchable; replay, re-run and compare the
// selected ones. It reads the database on threads of its own (the GUI thread never waits on
// the disk) and owns nothing of the run shown: it only asks for runs by id.
#include <QList>
#include <QWidget>

#include <functional>
#include <string>
#include <vector>

#include "config/config.h"
#include "engine/run_types.h"

class QComboBox;
class QLineEdit;
class QListWidget;
class QTimer;

namespace moa::ui {

// A run read back from the history: its id, its configuration snapshot and its record.
struct StoredRun {
    qint64 id = 0;
    config::Config config;
    engine::RunRecord record;
};

// Reads `ids` from the database at `db` on a thread; `done` gets the runs found and, when some
// could not be read, a message naming the run and why, on `context`'s (GUI) thread.
void load_stored_runs(const std::string& db, const QList<qint64>& ids, QObject* context,
                      std::function<void(const std::vector<StoredRun>&, const QString& problem)> done);

class HistoryPanel : public QWidget {
    Q_OBJECT
public:
    // `db` empty: there is no history (the list says so).
    explicit HistoryPanel(std::string db, QWidget* parent = nullptr);
    void refresh();
    // The same read, but the list is redrawn only when what it would show changed (the
    // selection is kept): for the window's activation and the panel's own poll.
    void refreshIfChanged();
    static constexpr int kPollMs = 5000;
    void setPollInterval(int ms); // 0: no poll
    // How many refreshes were started (each reads the database on a thread, then `refreshed`).
    int refreshesStarted() const { return generation_; }
    QList<qint64> selectedRuns() const; // newest first
    double replaySpeed() const;
    QListWidget* list() const { return list_; }

signals:
    void openRequested(qint64 id);
    void replayRequested(qint64 id, double speed);
    void replaySpeedChanged(double speed);
    void rerunRequested(qint64 id);
    void compareRequested(qint64 older, qint64 newer);
    void message(const QString& text);
    // The list was filled from the database (the newest refresh).
    void refreshed();

private:
    std::string db_;
    QLineEdit* search_;
    QListWidget* list_;
    QComboBox* speed_;
    int generation_ = 0; // the newest refresh wins
    void load(bool only_if_changed);
    bool full_pending_ = false; // a refresh() whose list must be drawn even if unchanged
    QString stamp_;             // what the list shows, to tell whether a poll found anything new
    QTimer* poll_;
};

} // namespace moa::ui
