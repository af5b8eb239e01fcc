#include "methods/activation_source.h"

#include "io/checkpoint.h"

namespace qs {

ActivationSource ActivationSource::synthetic(const SyntheticCalibration& spec, std::string label) {
    ActivationSource a;
    a.m_synthetic = spec;
    a.m_label = std::move(label);
    return a;
}

ActivationSource ActivationSource::loaded(std::vector<float> values, std::int64_t tokens,
                                          std::int64_t features, std::string label) {
    ActivationSource a;
    a.m_values = std::move(values);
    a.m_loaded = MatrixView{a.m_values.data(), tokens, features};
    a.m_label = std::move(label);
    return a;
}

ActivationSource ActivationSource::importance(ImatrixFile file) {
    ActivationSource a;
    a.m_label =
        file.path + " (importance matrix, " + std::to_string(file.entries.size()) + " tensors)";
    a.m_imatrix = std::make_shared<const ImatrixFile>(std::move(file));
    return a;
}

void ActivationSource::prepare(const std::vector<std::int64_t>& features) {
    if (!m_synthetic)
        return;
    for (std::int64_t f : features) {
        if (f <= 0 || m_generated.count(f))
            continue;
        auto m = std::make_unique<Matrix>();
        m->values = syntheticActivations(*m_synthetic, f);
        m->view = MatrixView{m->values.data(), m_synthetic->tokens, f};
        m_generated.emplace(f, std::move(m));
    }
}

void ActivationSource::prepareFor(std::span<const TensorInfo* const> tensors) {
    std::vector<std::int64_t> widths;
    for (const TensorInfo* t : tensors)
        if (!t->shape.empty() && t->shape[0] > 0)
            widths.push_back(t->numel() / t->shape[0]);
    prepare(widths);
}

const MatrixView* ActivationSource::forFeatures(std::int64_t features) const {
    if (!m_synthetic)
        return m_loaded.data ? &m_loaded : nullptr;
    const auto it = m_generated.find(features);
    return it == m_generated.end() ? nullptr : &it->second->view;
}

std::int64_t ActivationSource::tokens() const {
    return m_synthetic ? m_synthetic->tokens : m_loaded.rows;
}

Result<ActivationSource> loadActivationSource(const std::string& path, const std::string& tensor) {
    if (tensor.empty())
        if (auto imatrix = readImatrixFile(path))
            return ActivationSource::importance(std::move(imatrix).value());
    auto ckpt = Checkpoint::open(path);
    if (!ckpt)
        return ckpt.error();
    const TensorInfo* t = nullptr;
    if (!tensor.empty()) {
        t = ckpt->find(tensor);
        if (!t)
            return makeError(path + ": no tensor named " + tensor);
    } else {
        int matrices = 0;
        for (const TensorInfo& c : ckpt->tensors())
            if (c.shape.size() == 2 && ++matrices == 1)
                t = &c;
        if (matrices != 1)
            return makeError(path + (matrices ? " holds " + std::to_string(matrices) +
                                                    " two-dimensional tensors; name one"
                                              : " holds no [tokens, in_features] tensor"));
    }
    if (t->shape.size() != 2 || t->shape[0] <= 0 || t->shape[1] <= 0)
        return makeError("activations must be [tokens, in_features]; " + t->name + " is " +
                         t->shapeString());
    auto values = ckpt->readFloat(*t);
    if (!values)
        return values.error();
    return ActivationSource::loaded(std::move(values).value(), t->shape[0], t->shape[1],
                                    path + ":" + t->name);
}

} // namespace qs
