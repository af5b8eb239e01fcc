// ExportDialog's widgets: the choices column (target, scheme or plan, output, target options)
// and the preview pane. Behaviour is in export_dialog.cpp.

#include "dialogs/export_dialog.h"
#include "dialogs/export_preview.h"

#include <QComboBox>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace qs {
namespace {

constexpr int kChoicesWidth = 430;

} // namespace

QWidget* ExportDialog::buildChoices() {
    auto* what = new QGroupBox(tr("What"));
    auto* whatForm = new QFormLayout(what);
    m_target = new QComboBox;
    m_target->setObjectName(QStringLiteral("exportTarget"));
    for (ExportTarget t : exportTargetsInMenuOrder())
        m_target->addItem(exportTargetLabel(t), static_cast<int>(t));
    whatForm->addRow(tr("Target:"), m_target);
    m_useScheme = new QRadioButton(tr("Scheme:"));
    m_usePlan = new QRadioButton(tr("Plan:"));
    m_useScheme->setChecked(true);
    m_scheme = new QLineEdit;
    m_scheme->setObjectName(QStringLiteral("exportScheme"));
    m_scheme->setToolTip(tr("Every tensor with two or more dimensions gets this scheme; "
                            "1-D norms and biases keep their precision"));
    whatForm->addRow(m_useScheme, m_scheme);
    m_plan = new QLineEdit;
    m_plan->setPlaceholderText(tr("a plan file (quantscope-cli plan)"));
    m_planBrowse = new QPushButton(tr("Browse…"));
    auto* planRow = new QHBoxLayout;
    planRow->addWidget(m_plan, 1);
    planRow->addWidget(m_planBrowse);
    whatForm->addRow(m_usePlan, planRow);

    auto* where = new QGroupBox(tr("Where"));
    auto* whereForm = new QFormLayout(where);
    m_output = new QLineEdit;
    m_output->setObjectName(QStringLiteral("exportOutput"));
    auto* outBrowse = new QPushButton(tr("Browse…"));
    auto* outRow = new QHBoxLayout;
    outRow->addWidget(m_output, 1);
    outRow->addWidget(outBrowse);
    whereForm->addRow(tr("Output:"), outRow);
    auto* input = new QLabel(QFileInfo(QString::fromStdString(m_checkpoint->path())).fileName());
    input->setToolTip(QString::fromStdString(m_checkpoint->path()));
    whereForm->addRow(tr("Input:"), input);

    auto* opts = new QGroupBox(tr("Target options"));
    m_optionsForm = new QFormLayout(opts);
    m_model = new QLineEdit;
    m_model->setPlaceholderText(tr("default: the input path"));
    m_model->setToolTip(tr("The model path or hub id the tool loads"));
    m_optionsForm->addRow(tr("Model for the tool:"), m_model);
    m_outputDir = new QLineEdit;
    m_outputDir->setPlaceholderText(tr("default: derived from the model name"));
    m_optionsForm->addRow(tr("Tool's output folder:"), m_outputDir);
    m_computeDtype = new QComboBox;
    m_computeDtype->addItem(tr("the model's (else bfloat16)"), QString());
    for (const char* d : {"bfloat16", "float16", "float32"})
        m_computeDtype->addItem(QString::fromLatin1(d), QString::fromLatin1(d));
    m_optionsForm->addRow(tr("Compute dtype:"), m_computeDtype);
    m_alignment = new QSpinBox;
    m_alignment->setRange(1, 4096);
    m_alignment->setValue(32);
    m_optionsForm->addRow(tr("GGUF alignment:"), m_alignment);
    m_ggufName = new QLineEdit;
    m_ggufName->setPlaceholderText(tr("general.name (non-GGUF sources)"));
    m_optionsForm->addRow(tr("Model name:"), m_ggufName);

    auto* column = new QWidget;
    auto* v = new QVBoxLayout(column);
    v->setContentsMargins(0, 0, 0, 0);
    v->addWidget(what);
    v->addWidget(where);
    v->addWidget(opts);
    v->addStretch(1);
    column->setMinimumWidth(kChoicesWidth);

    connect(m_target, &QComboBox::currentIndexChanged, this, [this] {
        updateOptionRows();
        updateDefaultOutput();
        schedulePreview();
    });
    connect(m_useScheme, &QRadioButton::toggled, this, [this] {
        updateDefaultOutput();
        schedulePreview();
    });
    connect(m_scheme, &QLineEdit::textChanged, this, [this] {
        m_useScheme->setChecked(true);
        updateDefaultOutput();
        schedulePreview();
    });
    connect(m_plan, &QLineEdit::textChanged, this, &ExportDialog::schedulePreview);
    connect(m_planBrowse, &QPushButton::clicked, this, &ExportDialog::browsePlan);
    connect(m_output, &QLineEdit::textEdited, this, [this] { m_outputEdited = true; });
    connect(m_output, &QLineEdit::textChanged, this, [this](const QString& path) {
        m_output->setToolTip(path); // the field shows the end of a long path
        schedulePreview();
    });
    connect(outBrowse, &QPushButton::clicked, this, &ExportDialog::browseOutput);
    for (QLineEdit* e : {m_model, m_outputDir, m_ggufName})
        connect(e, &QLineEdit::textChanged, this, &ExportDialog::schedulePreview);
    connect(m_computeDtype, &QComboBox::currentIndexChanged, this, &ExportDialog::schedulePreview);
    return column;
}

QWidget* ExportDialog::buildPreview() {
    auto* box = new QGroupBox(tr("Preview"));
    auto* v = new QVBoxLayout(box);
    m_summary = new QLabel;
    m_summary->setWordWrap(true);
    m_summary->setStyleSheet(QStringLiteral("font-weight: bold;"));
    m_preview = new QPlainTextEdit;
    m_preview->setObjectName(QStringLiteral("exportPreview"));
    m_preview->setReadOnly(true);
    m_preview->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_preview->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_warnings = new QListWidget;
    m_warnings->setObjectName(QStringLiteral("exportWarnings"));
    m_warnings->setWordWrap(true);
    m_warnings->setMaximumHeight(96);
    v->addWidget(m_summary);
    v->addWidget(m_preview, 1);
    v->addWidget(new QLabel(tr("Approximated, dropped or kept:")));
    v->addWidget(m_warnings);
    return box;
}

} // namespace qs
