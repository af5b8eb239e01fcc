#include "learn/memory_calculator.h"

#include "learn/memory_chart.h"
#include "number_format.h"
#include "widgets/flow_layout.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QVBoxLayout>

namespace qs {
namespace {

constexpr const char* kSchemes[] = {"f16",      "int8:channel", "int4:g128",  "int4:g64",
                                    "int4:g32", "nf4:g64",      "nf4:g64:dq", "q4_k",
                                    "mxfp4",    "nvfp4",        "int3:g64",   "int2:g64"};
constexpr double kGpuGb[] = {24, 48, 80, 141};

QString gb(double bytes) {
    return QStringLiteral("%1 GB").arg(bytes / 1e9, 0, 'f', bytes < 1e9 ? 3 : 2);
}

QString params(double p) {
    return QStringLiteral("%1 B").arg(p / 1e9, 0, 'f', 2);
}

} // namespace

MemoryCalculator::MemoryCalculator(QWidget* parent)
    : QWidget(parent), m_model(new QComboBox(this)), m_scheme(new QComboBox(this)),
      m_context(new QSpinBox(this)), m_batch(new QSpinBox(this)), m_kvType(new QComboBox(this)),
      m_formulas(new QLabel(this)), m_chart(new MemoryChart(this)) {
    m_model->setObjectName(QStringLiteral("modelCombo"));
    for (const ModelShape& m : memoryModelPresets())
        m_model->addItem(QString::fromLatin1(m.name.data(), static_cast<qsizetype>(m.name.size())));
    m_model->setCurrentIndex(1);
    m_model->setToolTip(tr("A model's size and attention shape, from its config.json"));
    m_scheme->setObjectName(QStringLiteral("memorySchemeCombo"));
    m_scheme->setEditable(true);
    for (const char* s : kSchemes)
        m_scheme->addItem(QString::fromLatin1(s));
    m_scheme->setToolTip(tr("How the weights are stored; type any scheme spec"));
    m_context->setObjectName(QStringLiteral("contextSpin"));
    m_context->setRange(128, 1 << 20);
    m_context->setSingleStep(1024);
    m_context->setValue(4096);
    m_context->setSuffix(tr(" tokens"));
    m_context->setToolTip(tr("Tokens kept in the KV cache per sequence"));
    m_batch->setObjectName(QStringLiteral("batchSpin"));
    m_batch->setRange(1, 512);
    m_batch->setToolTip(tr("Sequences served at the same time"));
    m_kvType->setObjectName(QStringLiteral("kvTypeCombo"));
    m_kvType->addItem(tr("fp16 / bf16 (2 bytes)"), 2.0);
    m_kvType->addItem(tr("fp8 (1 byte)"), 1.0);
    m_kvType->setToolTip(tr("Bytes per cached key or value element"));

    auto* formBox = new QWidget(this);
    auto* form = new QFormLayout(formBox);
    form->setContentsMargins(0, 0, 0, 0);
    form->addRow(tr("&Model"), m_model);
    form->addRow(tr("&Weights as"), m_scheme);
    form->addRow(tr("&Context"), m_context);
    form->addRow(tr("&Batch"), m_batch);
    form->addRow(tr("&KV cache in"), m_kvType);

    auto* items = new QGridLayout;
    int k = 0;
    for (MemoryItem item : kMemoryItems) {
        auto* box = new QCheckBox(MemoryChart::itemName(item), this);
        box->setObjectName(QStringLiteral("memoryItem%1").arg(k));
        box->setToolTip(tr("Count the %1").arg(MemoryChart::itemName(item)));
        if (item == MemoryItem::Weights) {
            box->setChecked(true);
            box->setEnabled(false);
        }
        items->addWidget(box, k / 2, k % 2);
        m_items[item] = box;
        connect(box, &QCheckBox::toggled, this, &MemoryCalculator::recompute);
        ++k;
    }
    auto* itemsBox = new QWidget(this);
    auto* itemsLayout = new QVBoxLayout(itemsBox);
    itemsLayout->setContentsMargins(0, 0, 0, 0);
    itemsLayout->addWidget(new QLabel(tr("<b>Count these costs:</b>"), itemsBox));
    itemsLayout->addLayout(items);
    itemsLayout->addStretch(1);

    // The costs to count beside the form, or under it where the page is narrow (Learn mode in a
    // 1280-pixel window leaves the page about 420 pixels).
    auto* top = new FlowLayout(nullptr, 16, 8);
    top->addWidget(formBox);
    top->addWidget(itemsBox);

    m_formulas->setObjectName(QStringLiteral("memoryFormulas"));
    m_formulas->setTextFormat(Qt::RichText);
    m_formulas->setWordWrap(true);
    m_formulas->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_formulas->setFrameShape(QFrame::StyledPanel);
    m_formulas->setBackgroundRole(QPalette::Base);
    m_formulas->setAutoFillBackground(true);
    m_formulas->setContentsMargins(8, 6, 8, 6);
    m_formulas->setAlignment(Qt::AlignTop | Qt::AlignLeft);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(top);
    layout->addWidget(m_formulas);
    layout->addWidget(m_chart);
    auto* rules = new QLabel(
        tr("<b>Rules of thumb</b> (bytes per parameter): fp32 4 · fp16/bf16 2 · int8 about 1 · "
           "4-bit formats 0.53–0.56 with their scales · full training with Adam about 16, plus "
           "activations. The KV cache grows with context × batch, not with the weights' "
           "precision."),
        this);
    rules->setObjectName(QStringLiteral("memoryRules"));
    rules->setWordWrap(true);
    rules->setTextFormat(Qt::RichText);
    layout->addWidget(rules);
    layout->addStretch(1);

    connect(m_model, &QComboBox::currentIndexChanged, this, &MemoryCalculator::recompute);
    connect(m_scheme, &QComboBox::currentTextChanged, this, &MemoryCalculator::recompute);
    connect(m_context, &QSpinBox::valueChanged, this, &MemoryCalculator::recompute);
    connect(m_batch, &QSpinBox::valueChanged, this, &MemoryCalculator::recompute);
    connect(m_kvType, &QComboBox::currentIndexChanged, this, &MemoryCalculator::recompute);
    recompute();
}

void MemoryCalculator::setPreset(int count, const QString& scheme, int context) {
    {
        const QSignalBlocker b1(m_scheme), b2(m_context);
        int k = 0;
        for (MemoryItem item : kMemoryItems) {
            const QSignalBlocker b(m_items[item]);
            m_items[item]->setChecked(item == MemoryItem::Weights || k < count);
            ++k;
        }
        m_scheme->setCurrentText(scheme);
        m_context->setValue(context);
    }
    recompute();
}

void MemoryCalculator::setScheme(const QString& spec) {
    m_scheme->setCurrentText(spec);
}

void MemoryCalculator::setItemIncluded(MemoryItem item, bool on) {
    m_items[item]->setChecked(on || item == MemoryItem::Weights);
}

QString MemoryCalculator::schemeSpec() const {
    return m_scheme->currentText().trimmed();
}

QString MemoryCalculator::formulaText() const {
    return m_formulas->text();
}

QString MemoryCalculator::itemFormula(const MemoryInputs& in, MemoryItem item) const {
    const double p = in.model.params;
    switch (item) {
    case MemoryItem::Weights:
        return tr("%1 parameters × %2 bits / 8").arg(params(p), formatNumber(in.bits.payload));
    case MemoryItem::Scales:
        return tr("%1 parameters × %2 bits of scales / 8")
            .arg(params(p), formatNumber(in.bits.overhead));
    case MemoryItem::KvCache:
        return tr("2 (K, V) × %1 layers × %2 KV heads × %3 dims × %4 tokens × %5 × %6 bytes")
            .arg(in.model.layers)
            .arg(in.model.kvHeads)
            .arg(in.model.headDim)
            .arg(in.context)
            .arg(in.batch)
            .arg(in.kvBytesPerElement);
    case MemoryItem::Gradients:
        return tr("%1 parameters × 2 bytes (bf16)").arg(params(p));
    case MemoryItem::OptimizerStates:
        return tr("%1 parameters × 8 bytes (two fp32 moments)").arg(params(p));
    case MemoryItem::MasterWeights:
        return tr("%1 parameters × 4 bytes (fp32)").arg(params(p));
    }
    return {};
}

void MemoryCalculator::recompute() {
    MemoryInputs in;
    in.model = memoryModelPresets()[static_cast<std::size_t>(std::max(0, m_model->currentIndex()))];
    auto scheme = Scheme::parse(m_scheme->currentText().trimmed().toStdString());
    auto bits = scheme ? weightBitsOf(*scheme) : Result<WeightBits>(scheme.error());
    if (!bits) {
        m_formulas->setText(QStringLiteral("<span style='color:#C0392B'>%1</span>")
                                .arg(QString::fromStdString(bits.message()).toHtmlEscaped()));
        return;
    }
    in.bits = *bits;
    in.context = m_context->value();
    in.batch = m_batch->value();
    in.kvBytesPerElement = m_kvType->currentData().toDouble();
    in.included.clear();
    for (MemoryItem item : kMemoryItems)
        if (m_items[item]->isChecked())
            in.included.push_back(item);
    m_lines = memoryBreakdown(in);
    QString html = QStringLiteral("<table cellspacing='0' cellpadding='2'>");
    for (const MemoryLine& l : m_lines)
        html += QStringLiteral("<tr><td><span style='color:%1'>■</span> %2</td><td>%3 =</td>"
                               "<td align='right'><b>%4</b></td></tr>")
                    .arg(MemoryChart::itemColour(l.item).name(), MemoryChart::itemName(l.item),
                         itemFormula(in, l.item), gb(l.bytes));
    const double total = totalBytes(m_lines);
    QStringList fits;
    for (double g : kGpuGb)
        fits << QStringLiteral("%1 GB %2")
                    .arg(g)
                    .arg(total <= g * 1e9 ? QStringLiteral("✔") : QStringLiteral("✘"));
    html += QStringLiteral("<tr><td><b>%1</b></td><td>%2</td><td align='right'><b>%3</b></td>"
                           "</tr></table>")
                .arg(tr("total"), tr("fits on a GPU of %1").arg(fits.join(QStringLiteral(", "))),
                     gb(total));
    m_formulas->setText(html);
    m_chart->setLines(m_lines, in.model.params * 2.0);
    Q_EMIT changed();
}

} // namespace qs
