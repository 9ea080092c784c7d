// SPDX-License-Identifier: MIT
#pragma once
// The configuration being edited: every change goes through the undo stack as a snapshot
// command (a configuration is small, so whole snapshots are simpler and safer than inverse
// operations); consecutive changes of the same field or drags of the same agent merge.
#include <QObject>
#include <QString>
#include <QStringList>
#include <QUndoStack>

#include <functional>

#include "config/config.h"

namespace moa::ui {

class ConfigDocument : public QObject {
    Q_OBJECT
public:
    explicit ConfigDocument(QObject* parent = nullptr);

    const config::Config& config() const { return config_; }
    QUndoStack* undoStack() { return &undo_; }
    const QString& path() const { return path_; }
    bool isDirty() const { return !undo_.isClean(); }

    // Replaces the document (no undo); `path` may be empty for a new or preset-based one.
    void reset(const config::Config& c, const QString& path);
    // With `options.allow_outside_files` (the user confirmed it) the configuration may read files
    // outside its folder, for as long as it stays this document. `outside`, when given, receives
    // the files refused for lying outside (what a confirmation would allow).
    bool load(const QString& path, QString* error, const config::LoadOptions& options = {}, QStringList* outside = nullptr);
    // Atomic (write to a temporary file, then rename): a failure leaves the old file whole.
    bool save(const QString& path, QString* error);

    // Applies `change` as one undoable step named `text`. Steps with the same non-negative
    // merge id in a row become one.
    void edit(const QString& text, const std::function<void(config::Config&)>& change, int merge_id = -1);

    void addLayer(int at);
    void removeLayer(int layer);
    void addAgent(int layer, const config::Agent& agent, int at = -1);
    void removeAgent(int layer, int index);
    void duplicateAgent(int layer, int index);
    void moveAgent(int from_layer, int from_index, int to_layer, int to_index);
    void setAgent(int layer, int index, const config::Agent& agent, int merge_id = -1);

    // Problems of the configuration as it stands, as the loader reports them.
    std::vector<config::Issue> issues() const;

    // Called by the undo commands.
    void setConfigInternal(const config::Config& c);
    bool roomFor(int layers_added, int into_layer, int agents_added);

signals:
    void changed();
    // An edit was not made because the configuration would then exceed the loader's limits
    // (config::kMaxLayers and the rest): a file saved from it could not be opened again.
    void refused(const QString& why);
    void dirtyChanged(bool dirty);
    void pathChanged(const QString& path);

private:
    config::Config config_;
    QUndoStack undo_;
    QString path_;
    config::LoadOptions load_options_;
};

// File > New: one offline-demo aggregator on an otherwise empty canvas.
config::Config blank_config();

// A sensible new agent for a configuration: its first provider, a model that provider knows.
config::Agent default_agent(const config::Config& c);

} // namespace moa::ui
