// SPDX-License-Identifier: MIT
#include "model/config_document.h"

#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

namespace moa::ui {

namespace {

class SnapshotCommand : public QUndoCommand {
public:
    SnapshotCommand(ConfigDocument* doc, const QString& text, config::Config before, config::Config after, int merge_id)
        : QUndoCommand(text), doc_(doc), before_(std::move(before)), after_(std::move(after)), merge_id_(merge_id) {}
    void undo() override { doc_->setConfigInternal(before_); }
    void redo() override { doc_->setConfigInternal(after_); }
    int id() const override { return merge_id_; }
    bool mergeWith(const QUndoCommand* other) override {
        if (other->id() != id() || id() < 0) return false;
        after_ = static_cast<const SnapshotCommand*>(other)->after_;
        return true;
    }

private:
    ConfigDocument* doc_;
    config::Config before_, after_;
    int merge_id_;
};

bool valid_agent(const config::Config& c, int layer, int index) {
    return layer >= 0 && layer < static_cast<int>(c.layers.size()) && index >= 0 &&
           index < static_cast<int>(c.layers[static_cast<std::size_t>(layer)].agents.size());
}

} // namespace

config::Config blank_config() {
    config::Config c;
    c.name = "Untitled";
    config::Provider demo;
    demo.name = "demo";
    demo.type = config::ProviderType::Demo;
    c.providers["demo"] = demo;
    c.aggregation.template_text = config::default_aggregation_template();
    c.layers.push_back(config::Layer{{config::Agent{"demo", "demo-aggregator", {}, {}}}, {}, {}});
    return c;
}

config::Agent default_agent(const config::Config& c) {
    config::Agent a;
    if (!c.providers.empty()) a.provider = c.providers.begin()->first;
    for (const auto& l : c.layers)
        for (const auto& ag : l.agents)
            if (ag.provider == a.provider) {
                a.model = ag.model;
                return a;
            }
    a.model = "model-name";
    return a;
}

ConfigDocument::ConfigDocument(QObject* parent) : QObject(parent) {
    connect(&undo_, &QUndoStack::cleanChanged, this, [this](bool clean) { emit dirtyChanged(!clean); });
}

void ConfigDocument::reset(const config::Config& c, const QString& path) {
    load_options_ = {}; // a confirmation was for the file it was given for
    undo_.clear();
    config_ = c;
    path_ = path;
    undo_.setClean();
    emit pathChanged(path_);
    emit changed();
    emit dirtyChanged(false);
}

bool ConfigDocument::load(const QString& path, QString* error, const config::LoadOptions& options, QStringList* outside) {
    auto r = config::load_config_file(path.toStdString(), options);
    if (outside)
        for (const auto& f : r.outside_files) *outside << QString::fromStdString(f);
    if (!r.ok()) {
        if (error) *error = QString::fromStdString(r.summary()).trimmed();
        return false;
    }
    reset(*r.config, path);
    load_options_ = options;
    return true;
}

bool ConfigDocument::save(const QString& path, QString* error) {
    // Unbuffered: a write that fails (a full disk) is seen by QSaveFile, which then refuses to
    // commit; buffered, the failure would surface only in a flush whose result commit() ignores,
    // and a cut file would replace the whole one.
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Unbuffered)) {
        if (error) *error = path + ": cannot write: " + f.errorString();
        return false;
    }
    const std::string text = config::to_json(config_).dump(2) + "\n";
    if (f.write(text.data(), static_cast<qint64>(text.size())) != static_cast<qint64>(text.size()) || !f.commit()) {
        if (error) *error = path + ": cannot save (the old file is unchanged): " + f.errorString();
        return false;
    }
    path_ = path;
    undo_.setClean();
    emit pathChanged(path_);
    return true;
}

void ConfigDocument::setConfigInternal(const config::Config& c) {
    config_ = c;
    emit changed();
}

void ConfigDocument::edit(const QString& text, const std::function<void(config::Config&)>& change, int merge_id) {
    config::Config after = config_;
    change(after);
    undo_.push(new SnapshotCommand(this, text, config_, std::move(after), merge_id));
}

bool ConfigDocument::roomFor(int layers_added, int into_layer, int agents_added) {
    std::size_t total = 0;
    for (const auto& L : config_.layers) total += L.agents.size();
    QString why;
    if (config_.layers.size() + static_cast<std::size_t>(layers_added) > config::kMaxLayers)
        why = tr("A configuration holds at most %1 layers").arg(config::kMaxLayers);
    else if (into_layer >= 0 && into_layer < static_cast<int>(config_.layers.size()) &&
             config_.layers[static_cast<std::size_t>(into_layer)].agents.size() + static_cast<std::size_t>(agents_added) >
                 config::kMaxAgentsPerLayer)
        why = tr("A layer holds at most %1 agents").arg(config::kMaxAgentsPerLayer);
    else if (total + static_cast<std::size_t>(agents_added) > config::kMaxAgents)
        why = tr("A configuration holds at most %1 agents in all").arg(config::kMaxAgents);
    if (why.isEmpty()) return true;
    emit refused(why + tr(" (the limits in the README): nothing was added"));
    return false;
}

void ConfigDocument::addLayer(int at) {
    if (!roomFor(1, -1, 1)) return;
    edit(tr("Add layer"), [at](config::Config& c) {
        config::Layer L;
        L.agents.push_back(default_agent(c));
        int pos = std::clamp(at, 0, static_cast<int>(c.layers.size()));
        c.layers.insert(c.layers.begin() + pos, std::move(L));
    });
}

void ConfigDocument::removeLayer(int layer) {
    if (layer < 0 || layer >= static_cast<int>(config_.layers.size()) || config_.layers.size() == 1) return;
    edit(tr("Remove layer %1").arg(layer + 1), [layer](config::Config& c) { c.layers.erase(c.layers.begin() + layer); });
}

void ConfigDocument::addAgent(int layer, const config::Agent& agent, int at) {
    if (layer < 0 || layer >= static_cast<int>(config_.layers.size())) return;
    if (!roomFor(0, layer, 1)) return;
    edit(tr("Add agent"), [layer, agent, at](config::Config& c) {
        auto& agents = c.layers[static_cast<std::size_t>(layer)].agents;
        int pos = at < 0 ? static_cast<int>(agents.size()) : std::clamp(at, 0, static_cast<int>(agents.size()));
        agents.insert(agents.begin() + pos, agent);
    });
}

void ConfigDocument::removeAgent(int layer, int index) {
    if (!valid_agent(config_, layer, index)) return;
    edit(tr("Remove agent"), [layer, index](config::Config& c) {
        auto& agents = c.layers[static_cast<std::size_t>(layer)].agents;
        agents.erase(agents.begin() + index);
        if (agents.empty() && c.layers.size() > 1) c.layers.erase(c.layers.begin() + layer);
    });
}

void ConfigDocument::duplicateAgent(int layer, int index) {
    if (!valid_agent(config_, layer, index)) return;
    if (!roomFor(0, layer, 1)) return;
    auto copy = config_.layers[static_cast<std::size_t>(layer)].agents[static_cast<std::size_t>(index)];
    edit(tr("Duplicate agent"), [layer, index, copy](config::Config& c) {
        auto& agents = c.layers[static_cast<std::size_t>(layer)].agents;
        agents.insert(agents.begin() + index + 1, copy);
    });
}

void ConfigDocument::moveAgent(int from_layer, int from_index, int to_layer, int to_index) {
    if (!valid_agent(config_, from_layer, from_index) || to_layer < 0 || to_layer >= static_cast<int>(config_.layers.size()))
        return;
    if (from_layer == to_layer && from_index == to_index) return;
    if (from_layer != to_layer && !roomFor(0, to_layer, 1)) return;
    edit(tr("Move agent"), [=](config::Config& c) {
        auto& src = c.layers[static_cast<std::size_t>(from_layer)].agents;
        config::Agent a = src[static_cast<std::size_t>(from_index)];
        src.erase(src.begin() + from_index);
        auto& dst = c.layers[static_cast<std::size_t>(to_layer)].agents;
        int pos = std::clamp(to_index, 0, static_cast<int>(dst.size()));
        dst.insert(dst.begin() + pos, a);
        if (src.empty()) c.layers.erase(c.layers.begin() + from_layer);
    });
}

void ConfigDocument::setAgent(int layer, int index, const config::Agent& agent, int merge_id) {
    if (!valid_agent(config_, layer, index)) return;
    edit(tr("Edit agent"), [=](config::Config& c) {
        c.layers[static_cast<std::size_t>(layer)].agents[static_cast<std::size_t>(index)] = agent;
    }, merge_id);
}

std::vector<config::Issue> ConfigDocument::issues() const {
    auto r = config::load_config_text(config::to_json(config_).dump(2), path_.isEmpty() ? "unsaved" : path_.toStdString(),
                                      path_.isEmpty() ? "." : QFileInfo(path_).absolutePath().toStdString(), load_options_);
    return r.issues;
}

} // namespace moa::ui
