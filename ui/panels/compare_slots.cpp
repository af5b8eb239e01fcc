#include "panels/compare_slots.h"

#include "quant/registry.h"

#include <algorithm>

namespace qs {

std::optional<Scheme> linkedScheme(const QString& family, const Scheme& panel) {
    const FamilyInfo* f = findFamily(family.toStdString());
    if (!f)
        return std::nullopt;
    std::string spec(f->name);
    if (!f->fixedBits())
        spec += std::to_string(std::clamp(panel.bits, f->minBits, f->maxBits));
    auto base = Scheme::parse(spec);
    if (!base)
        return std::nullopt;
    Scheme s = base.value();
    const FamilyInfo* pf = findFamily(panel.family);
    if (pf && pf->hasGranularity() && f->hasGranularity()) {
        s.granularity = panel.granularity;
        s.groupSize = panel.groupSize;
    }
    if (pf && pf->hasSymmetry && f->hasSymmetry)
        s.symmetric = panel.symmetric;
    if (auto checked = Scheme::parse(s.toString()))
        return checked.value();
    return base.value();
}

std::vector<CompareSlot> defaultCompareSlots(const Scheme& panel) {
    std::vector<CompareSlot> slots;
    for (const char* family : {"int", "mulaw", "nf"}) {
        CompareSlot slot;
        if (auto s = linkedScheme(QString::fromLatin1(family), panel)) {
            slot.family = QString::fromLatin1(family);
            slot.scheme = *s;
        }
        slots.push_back(slot);
    }
    return slots;
}

void followPanel(std::vector<CompareSlot>& slots, const Scheme& panel) {
    for (CompareSlot& slot : slots) {
        if (slot.family.isEmpty())
            continue;
        if (!slot.pinned) {
            if (auto s = linkedScheme(slot.family, panel))
                slot.scheme = *s;
            continue;
        }
        const FamilyInfo* f = findFamily(slot.scheme.family);
        if (!f || f->fixedBits())
            continue;
        Scheme s = slot.scheme;
        s.bits = std::clamp(panel.bits, f->minBits, f->maxBits);
        if (auto checked = Scheme::parse(s.toString()))
            slot.scheme = checked.value();
    }
}

std::vector<Scheme> slotSchemes(const std::vector<CompareSlot>& slots) {
    std::vector<Scheme> out;
    for (const CompareSlot& slot : slots)
        if (!slot.family.isEmpty())
            out.push_back(slot.scheme);
    return out;
}

} // namespace qs
