// SPDX-License-Identifier: MIT
#include "help_dialogs.h"

#include <QMessageBox>
#include <QSettings>

#include "model/autosave.h"

namespace moa::ui {

QMessageBox* shortcuts_dialog(QWidget* parent) {
    auto* d = new QMessageBox(
        QMessageBox::Information, QObject::tr("Keyboard shortcuts"),
        QObject::tr(
            "<table>"
            "<tr><td><b>Ctrl+Enter</b></td><td>Run the prompt (anywhere in the window)</td></tr>"
            "<tr><td><b>Esc</b></td><td>Cancel the run</td></tr>"
            "<tr><td><b>Ctrl+N / Ctrl+O / Ctrl+S</b></td><td>New, open, save a "
            "configuration</td></tr>"
            "<tr><td><b>Ctrl+E</b></td><td>Export the run shown</td></tr>"
            "<tr><td><b>Ctrl+Z / Ctrl+Shift+Z</b></td><td>Undo, redo</td></tr>"
            "<tr><td><b>Ctrl+Shift+L / Ctrl+Shift+A</b></td><td>Add a layer, add an agent (graph "
            "focused)</td></tr>"
            "<tr><td><b>Ctrl+D / Del</b></td><td>Duplicate, delete the selected agent (graph "
            "focused)</td></tr>"
            "<tr><td><b>Ctrl+C / Ctrl+V</b></td><td>Copy, paste an agent (graph focused)</td></tr>"
            "<tr><td><b>← → ↑ ↓</b></td><td>Select the agent beside, above or below the selected "
            "one (graph focused)</td></tr>"
            "<tr><td><b>Home / End</b></td><td>Select the first agent, the final aggregator (graph "
            "focused)</td></tr>"
            "<tr><td><b>Tab / Shift+Tab, Ctrl+Tab</b></td><td>Leave the prompt or the system "
            "prompt for the next (previous) field; they never type a tab</td></tr>"
            "<tr><td><b>Ctrl++ / Ctrl+- / Ctrl+0</b></td><td>Zoom in, out, fit the graph</td></tr>"
            "<tr><td><b>Ctrl+1 / Ctrl+2</b></td><td>Editing layout, running layout</td></tr>"
            "<tr><td><b>Ctrl+Shift+E</b></td><td>Experiments</td></tr>"
            "<tr><td><b>F11</b></td><td>Layers walkthrough of the run shown (then ← / → step "
            "through the layers, Esc closes it)</td></tr>"
            "<tr><td><b>Click a sentence</b></td><td>In an answer of layer 2 or later: its sources "
            "light up in the layer before</td></tr>"
            "</table>"),
        QMessageBox::Close, parent);
    d->setObjectName("shortcuts_help");
    d->setAttribute(Qt::WA_DeleteOnClose);
    return d;
}

QMessageBox* data_locations_dialog(const QString& history, QWidget* parent) {
    const QString hist =
        !history.isEmpty() ? history : QObject::tr("(none: the history could not be opened)");
    auto* d = new QMessageBox(
        QMessageBox::Information, QObject::tr("Where data lives"),
        QObject::tr(
            "<p><b>History</b> (every run, SQLite): %1<br>(set MOA_HISTORY_DB to use another "
            "file)</p>"
            "<p><b>Autosave</b> of unsaved changes: %2</p>"
            "<p><b>Settings</b> (layout, recent files): %3</p>"
            "<p><b>Keys</b>: your system keychain (service \"moa-workbench\"), or the environment "
            "variable each provider names. Keys are never written to files.</p>")
            .arg(hist.toHtmlEscaped(), Autosave::defaultFile().toHtmlEscaped(),
                 QSettings().fileName().toHtmlEscaped()),
        QMessageBox::Close, parent);
    d->setObjectName("data_help");
    d->setTextInteractionFlags(Qt::TextSelectableByMouse);
    d->setAttribute(Qt::WA_DeleteOnClose);
    return d;
}

void about_dialog(QWidget* parent) {
    QMessageBox::about(
        parent, QObject::tr("About MoA Workbench"),
        QObject::tr(
            "<b>MoA Workbench</b><p>Build, run and measure Mixture-of-Agents: proposers answer in "
            "parallel, aggregators synthesize their answers layer by layer.</p><p>MIT "
            "licence.</p>"));
}

} // namespace moa::ui
