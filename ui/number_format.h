#pragma once
// How numbers read in the UI: one place so every panel and chart agrees.

#include <QString>

#include <cstdint>

namespace qs {

QString formatCount(std::int64_t n);                 // 260,672
QString formatCountShort(std::int64_t n);            // 260.7K, 1.2M, 7.0B
QString formatBytes(std::uint64_t bytes);            // 2.21 KiB
QString formatNumber(double v, int significant = 4); // 0.01234, 1.234e-05, -inf
QString formatDb(double db);                         // "21.37 dB", "exact" for +inf
QString formatPercent(double fraction);              // 3.21 %

} // namespace qs
