#pragma once
// Runs quantscope-cli (QS_CLI_PATH, set per test target) and keeps its exit code and output.

#include <QByteArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStringList>
#include <QtGlobal>

namespace qs::test {

struct CliRun {
    int code = -1;
    QByteArray out, err;
    QJsonObject json() const { return QJsonDocument::fromJson(out).object(); }
};

inline CliRun runCli(const QStringList& args, int timeoutMs = 120000) {
    QProcess p;
    p.start(QS_CLI_PATH, args);
    if (!p.waitForFinished(timeoutMs))
        qFatal("quantscope-cli did not finish");
    return {p.exitCode(), p.readAllStandardOutput(), p.readAllStandardError()};
}

} // namespace qs::test
