// SPDX-License-Identifier: MIT
// Cold start: from starting the moa-workbench process to its first painted window, median of
// five. Baseline in the same process: starting `moa --version` (the cost of a process alone).
// Goal: < 1 s. A start that never reports its first paint (a crash, an exit, a hang) fails the
// benchmark with what happened: a crash must not read as a fast start.
//   bench_cold_start [--workbench PROGRAM [ARGS...]]   (another program in place of moa-workbench:
//                                                       the tests use one that never paints)
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QProcess>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace {
// The median time until `until` appears on stdout, or empty (with `why` set) when a start ended
// or timed out without it.
std::optional<double> median_ms(const QString& program, const QStringList& args, const QByteArray& until,
                                std::string& why) {
    std::vector<double> t;
    for (int i = 0; i < 5; ++i) {
        QProcess p;
        auto env = QProcessEnvironment::systemEnvironment();
        env.insert("MOA_REPORT_FIRST_PAINT", "1");
        env.insert("MOA_HISTORY_DB", "/tmp/moa-bench-cold-start.sqlite");
        p.setProcessEnvironment(env);
        QElapsedTimer clock;
        clock.start();
        p.start(program, args);
        QByteArray out;
        // Generous: the machine may be busy. The condition ends the wait, not the time.
        while (!out.contains(until) && p.waitForReadyRead(60000)) out += p.readAllStandardOutput();
        out += p.readAllStandardOutput();
        const double ms = static_cast<double>(clock.nsecsElapsed()) / 1e6;
        if (!out.contains(until)) {
            if (p.state() != QProcess::NotRunning) {
                p.kill();
                p.waitForFinished(10000);
                why = "still running after 60 s without reporting \"" + until.toStdString() + "\"";
            } else if (p.error() == QProcess::FailedToStart) {
                why = "did not start (" + p.errorString().toStdString() + ")";
            } else if (p.exitStatus() == QProcess::CrashExit) {
                why = "crashed (" + p.errorString().toStdString() + ") before reporting \"" + until.toStdString() + "\"";
            } else {
                why = "exited with status " + std::to_string(p.exitCode()) + " before reporting \"" + until.toStdString() + "\"";
            }
            const QByteArray err = p.readAllStandardError().right(2000);
            if (!err.isEmpty()) why += "; its stderr ends: " + err.toStdString();
            why = program.toStdString() + " (start " + std::to_string(i + 1) + " of 5) " + why;
            return std::nullopt;
        }
        t.push_back(ms);
        p.waitForFinished(10000);
    }
    std::sort(t.begin(), t.end());
    return t[2];
}
} // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    QString workbench = QStringLiteral(MOA_BIN_DIR "/moa-workbench");
    QStringList workbench_args;
    const QStringList a = app.arguments();
    if (a.size() > 2 && a[1] == "--workbench") {
        workbench = a[2];
        workbench_args = a.mid(3);
    }
    std::string why;
    const auto base = median_ms(QStringLiteral(MOA_BIN_DIR "/moa"), {"--version"}, "moa ", why);
    const auto gui = base ? median_ms(workbench, workbench_args, "first-paint", why) : std::nullopt;
    if (!base || !gui) {
        std::printf("cold start: FAILED, no time measured: %s\n", why.c_str());
        return 1;
    }
    std::printf("cold start to the first painted window (median of 5): %.0f ms\n", *gui);
    std::printf("  baseline, starting `moa --version`: %.0f ms; ratio %.1f\n", *base, *gui / *base);
    std::printf("  goal < 1000 ms: %s\n", *gui < 1000 ? "met" : "NOT met");
    return 0;
}
