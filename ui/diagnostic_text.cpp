#include "diagnostic_text.h"

#include "number_format.h"

#include <QObject>

namespace qs {
namespace {

QString label(const Diagnostic& d) {
    return QString::fromStdString(d.key).replace(QLatin1Char('_'), QLatin1Char(' '));
}

bool countsBlocks(const Diagnostic& d) {
    return QString::fromStdString(d.key).endsWith(QLatin1String("_blocks"));
}

} // namespace

std::int64_t blockCount(const TensorInfo& t, const Scheme& s) {
    if ((s.granularity != Granularity::Block && s.granularity != Granularity::Group) ||
        s.groupSize <= 0)
        return 0;
    const std::int64_t cols = t.cols();
    return t.rows() * ((cols + s.groupSize - 1) / s.groupSize);
}

QString diagnosticLine(const Diagnostic& d, std::int64_t blocks) {
    const QString value = formatNumber(d.value, 6);
    if (countsBlocks(d) && blocks > 0)
        return QObject::tr("%1: %2 of %3").arg(label(d), value, formatCount(blocks));
    return QStringLiteral("%1: %2").arg(label(d), value);
}

QString diagnosticSummary(const std::vector<Diagnostic>& diagnostics, std::int64_t blocks) {
    QStringList parts;
    for (const Diagnostic& d : diagnostics) {
        if (d.value == 0)
            continue;
        if (countsBlocks(d) && blocks > 0)
            parts << QStringLiteral("%1/%2 %3")
                         .arg(formatNumber(d.value, 6), formatCount(blocks), label(d));
        else
            parts << QStringLiteral("%1 %2").arg(formatNumber(d.value, 6), label(d));
    }
    if (parts.isEmpty())
        return diagnostics.empty() ? QString() : QObject::tr("none");
    return parts.join(QStringLiteral(" · "));
}

bool hasNotableDiagnostic(const std::vector<Diagnostic>& diagnostics) {
    for (const Diagnostic& d : diagnostics)
        if (d.value != 0)
            return true;
    return false;
}

} // namespace qs
