#pragma once
// The Compare tab's three scheme slots and how they follow the Scheme panel. A slot is either
// linked (a family: it takes the panel's bit width, granularity and symmetry, so every slot is
// compared on equal terms) or pinned (a typed spec: only its bit width follows the panel), or
// empty. Plain values and functions; no widgets.

#include "quant/scheme.h"

#include <QString>

#include <optional>
#include <vector>

namespace qs {

inline constexpr int kCompareSlots = 3;

struct CompareSlot {
    QString family; // empty: the slot is unused
    bool pinned = false;
    Scheme scheme; // valid when family is not empty
};

// Linear, μ-law and NormalFloat: the comparison issue 4 asks for by default.
std::vector<CompareSlot> defaultCompareSlots(const Scheme& panel);
// `family` at the panel's bit width (clamped to the family's range) and, when both have them, its
// granularity and symmetry; std::nullopt if the family is unknown.
std::optional<Scheme> linkedScheme(const QString& family, const Scheme& panel);
// Re-derives linked slots from `panel` and moves pinned slots to its bit width.
void followPanel(std::vector<CompareSlot>& slots, const Scheme& panel);
// The schemes of the used slots, in slot order.
std::vector<Scheme> slotSchemes(const std::vector<CompareSlot>& slots);

} // namespace qs
