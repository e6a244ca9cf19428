"""The indexing wizard: folder and library, options (with a live photo count), progress, summary.

The job itself runs in a worker process (see :class:`~facefinder.gui.client.ServiceClient`);
this wizard sends the request and shows what comes back. It is modeless, so the rest of the app
stays usable while it runs. If the worker dies, the summary page says so and offers to resume.
"""

from __future__ import annotations

import os
import re

from PySide6.QtCore import QTimer, QUrl, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QCheckBox, QComboBox, QFileDialog, QFormLayout, QGridLayout, \
    QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QSpinBox, \
    QVBoxLayout, QWidget, QWizard, QWizardPage

from ..core.detect import DEFAULT_MIN_FACE
from ..core.images import PHOTO_EXTENSIONS
from .progress import IndexProgressPanel
from .messages import ask_yes_no

FILE_TYPES: dict[str, tuple[str, ...]] = {
    "JPEG": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "PNG": (".png",),
    "WebP": (".webp",),
    "BMP": (".bmp",),
    "TIFF": (".tif", ".tiff"),
    "GIF": (".gif",),
    "HEIC": (".heic", ".heif"),
}
_NAME = re.compile(r"^[^./\\][^/\\]*$")


def library_names() -> list[str]:
    from ..core.library import list_libraries

    try:
        return [p.name for p in list_libraries()]
    except OSError:
        return []


def dropped_folder(mime) -> str | None:
    """The local folder a drop names: a folder itself, or the folder of a dropped file (file://
    URLs and pasted paths alike); None when the drop holds no local path."""
    urls = list(mime.urls()) if mime.hasUrls() else []
    if not urls and mime.hasText():
        text = mime.text().strip().splitlines()[0].strip() if mime.text().strip() else ""
        urls = [QUrl(text) if "://" in text else QUrl.fromLocalFile(text)] if text else []
    for url in urls:
        if url.isLocalFile():
            path = url.toLocalFile()
            if os.path.isdir(path):
                return path
            if os.path.isfile(path):
                return os.path.dirname(path)
    return None


class FolderEdit(QLineEdit):
    """The folder field: a dropped folder (or file) becomes its local path, never a
    ``file:///`` URL; a typed or pasted URL is turned into a path too."""

    def dragEnterEvent(self, event) -> None:
        if dropped_folder(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if dropped_folder(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:
        folder = dropped_folder(event.mimeData())
        if folder:
            self.setText(folder)
            event.acceptProposedAction()
        else:
            super().dropEvent(event)


class FolderPage(QWizardPage):
    """Step 1: the photo folder (typed, picked, or dropped on the page) and the library.
    ``stats_wanted(name)``: an existing library was picked (its counts are shown)."""

    stats_wanted = Signal(str)

    def __init__(self, library: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Choose a photo folder"))
        self.setSubTitle(self.tr("Pick the folder to index, or drop it on this page. New and "
                                 "changed photos are added to the library you choose."))
        self.folder = FolderEdit()
        self.folder.setPlaceholderText(self.tr("A folder of photos"))
        browse = QPushButton(self.tr("Browse…"))
        browse.clicked.connect(self._browse)
        self.library = QComboBox()
        self.library.setEditable(True)
        names = library_names()
        if library and library not in names:
            names.insert(0, library)
        self.library.addItems(names or ["default"])
        self.library.setCurrentText(library or "default")
        self.library.setToolTip(self.tr("Pick a library, or type a new name to create one."))
        self.new_hint = QLabel()
        self.why = QLabel()  # why Next is not available yet
        self.why.setObjectName("why")
        self.why.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        form = QFormLayout(self)
        form.addRow(self.tr("Folder:"), row)
        form.addRow(self.tr("Library:"), self.library)
        form.addRow("", self.new_hint)
        form.addRow(self.why)
        self.setAcceptDrops(True)
        self.folder.textChanged.connect(self._folder_changed)
        self.folder.editingFinished.connect(self._editing_finished)
        self.library.currentTextChanged.connect(self._library_changed)
        self._library_changed(self.library.currentText())
        self.registerField("folder*", self.folder)

    def _folder_changed(self, _text: str = "") -> None:
        self._explain()
        self.completeChanged.emit()

    def folder_path(self) -> str:
        """The folder typed, dropped or picked; a ``file://`` URL stands for its path."""
        text = self.folder.text().strip()
        if text.startswith("file:"):
            return QUrl(text).toLocalFile() or text
        return text

    def _editing_finished(self) -> None:
        path = self.folder_path()
        if path != self.folder.text():  # show the path a URL named
            self.folder.setText(path)

    def _library_changed(self, name: str) -> None:
        new = name.strip() not in library_names()
        self.new_hint.setText(self.tr("A new library will be created.") if new and name.strip()
                              else "")
        if not new:
            self.stats_wanted.emit(name.strip())  # the wizard asks; show_stats answers
        self._explain()
        self.completeChanged.emit()

    def show_stats(self, name: str, stats: dict) -> None:
        """An existing library's counts, under its name."""
        if name == self.library_name() and stats:
            self.new_hint.setText(self.tr("This library has {photos} photos and {faces} faces; "
                                          "new and changed photos are added.").format(
                photos=stats.get("photos", 0), faces=stats.get("faces", 0)))

    def problem(self) -> str:
        """Why Next is not available (empty when it is)."""
        folder = self.folder_path()
        if not folder:
            return self.tr("Choose a folder of photos (Browse…, or drop it on this page).")
        if not os.path.isdir(folder):
            return self.tr("There is no folder “{path}”.").format(path=folder)
        if not _NAME.match(self.library_name()):
            return self.tr("A library name cannot be empty, start with a dot, or contain a "
                           "slash.")
        return ""

    def _explain(self) -> None:
        self.why.setText(self.problem())

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, self.tr("Photo folder"),
                                                self.folder.text())
        if path:
            self.folder.setText(path)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_folder(event.mimeData()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:
        if dropped_folder(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        folder = dropped_folder(event.mimeData())
        if folder:
            self.folder.setText(folder)
            event.acceptProposedAction()

    def library_name(self) -> str:
        return self.library.currentText().strip()

    def isComplete(self) -> bool:
        return not self.problem()


class OptionsPage(QWizardPage):
    """Step 2: subfolders, smallest face, file types; shows how many photos will be looked at."""

    def __init__(self, runner=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.setTitle(self.tr("Options"))
        self.setSubTitle(self.tr("Nothing is indexed until you press Index."))
        self.recursive = QCheckBox(self.tr("Include subfolders"))
        self.recursive.setChecked(True)
        self.min_face = QSpinBox()
        self.min_face.setRange(10, 1000)
        self.min_face.setValue(DEFAULT_MIN_FACE)
        self.min_face.setSuffix(self.tr(" px"))
        self.min_face.setToolTip(self.tr("Faces smaller than this (in photo pixels) are ignored. "
                                         "Faces under 50 px are matched less reliably."))
        self.types: dict[str, QCheckBox] = {}
        grid = QGridLayout()
        for i, name in enumerate(FILE_TYPES):
            box = QCheckBox(name)
            box.setChecked(True)
            box.toggled.connect(self._schedule_count)
            self.types[name] = box
            grid.addWidget(box, i // 4, i % 4)
        self.found = QLabel()
        self.found.setObjectName("found")
        form = QFormLayout(self)
        form.addRow(self.recursive)
        form.addRow(self.tr("Smallest face:"), self.min_face)
        form.addRow(self.tr("File types:"), grid)
        form.addRow(self.found)
        self.recursive.toggled.connect(self._schedule_count)
        self._generation = 0
        self.count = -1
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self._count)
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, self.tr("Index"))

    def extensions(self) -> set[str]:
        out: set[str] = set()
        for name, box in self.types.items():
            if box.isChecked():
                out.update(FILE_TYPES[name])
        return out & set(PHOTO_EXTENSIONS)

    def initializePage(self) -> None:
        self._count()

    def _schedule_count(self) -> None:
        self._timer.start()

    def _count(self) -> None:
        """Count photos as a job on the io lane (a big folder takes a while to walk); a newer
        count cancels the one still walking."""
        self._generation += 1
        self.count = -1
        self.found.setText(self.tr("Counting photos…"))
        self.completeChanged.emit()
        generation = self._generation
        page = getattr(self.wizard(), "folder_page", None)
        folder = page.folder_path() if page is not None else self.field("folder")
        recursive, exts = self.recursive.isChecked(), frozenset(self.extensions())
        if getattr(self, "_count_job", None) is not None:
            self._count_job.cancel()

        def work(job) -> int:
            from ..core.scan import find_photos

            return len(find_photos(folder, recursive, exts, job.should_stop)[0]) if exts else 0

        self._count_job = job = self.runner.run(work, with_job=True, name="count photos")
        job.done.connect(lambda n: self._counted(generation, n))
        job.failed.connect(lambda _exc: self._counted(generation, -1))

    def _counted(self, generation: int, n: int) -> None:
        if generation != self._generation:
            return
        self.count = n
        if n < 0:
            self.found.setText(self.tr("The folder cannot be read."))
        elif n == 0:
            self.found.setText(self.tr("No photos found with these options."))
        else:
            self.found.setText(self.tr("1 photo found.") if n == 1 else
                               self.tr("{n} photos found.").format(n=n))
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.count > 0


class ProgressPage(QWizardPage):
    """Step 3: runs the job; Cancel stops it after the current photo or batch."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Indexing"))
        self.setSubTitle(self.tr("You can keep searching while this runs."))
        self.panel = IndexProgressPanel()
        self.cancel = QPushButton(self.tr("Stop indexing"))
        lay = QVBoxLayout(self)
        lay.addWidget(self.panel, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.cancel)
        lay.addLayout(row)
        self.done = False

    def isComplete(self) -> bool:
        return self.done


class SummaryPage(QWizardPage):
    """Step 4: what was indexed and which files were skipped, and why (copyable)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Done"))
        self.text = QLabel()
        self.text.setObjectName("summary")
        self.text.setWordWrap(True)
        self.skipped = QPlainTextEdit()
        self.skipped.setReadOnly(True)
        self.skipped.setPlaceholderText(self.tr("No files were skipped."))
        self.copy = copy = QPushButton(self.tr("Copy list"))
        copy.clicked.connect(self.copy_list)
        self.copied = QLabel()  # "Copied": the button's feedback
        self.resume = QPushButton(self.tr("Resume indexing"))
        self.resume.hide()
        lay = QVBoxLayout(self)
        lay.addWidget(self.text)
        lay.addWidget(QLabel(self.tr("Skipped files:")))
        lay.addWidget(self.skipped, 1)
        row = QHBoxLayout()
        row.addWidget(self.resume)
        row.addStretch(1)
        row.addWidget(self.copied)
        row.addWidget(copy)
        lay.addLayout(row)
        self.setFinalPage(True)

    def copy_list(self) -> None:
        QGuiApplication.clipboard().setText(self.skipped.toPlainText())
        n = self.skipped.blockCount() if self.skipped.toPlainText() else 0
        self.copied.setText(self.tr("Copied: 1 line.") if n == 1 else
                            self.tr("Copied: {n} lines.").format(n=n))
        QTimer.singleShot(4000, self.copied.clear)

    def show_summary(self, summary, error: str = "", resumable: bool = False) -> None:
        """The summary of a job, or ``error`` (with a Resume button when ``resumable``)."""
        self.resume.setVisible(bool(error) and resumable)
        if error:
            self.setTitle(self.tr("Indexing stopped"))
            self.text.setText(error)
            return
        self.setTitle(self.tr("Done"))
        lines = []
        if summary.cancelled:
            self.setTitle(self.tr("Cancelled"))
            lines.append(self.tr("Indexing was cancelled; what was done so far is kept. To "
                                 "finish, index the same folder into the same library again "
                                 "(Ctrl+I): photos already done are not read again."))
        # Parts that add up to the files found: with faces, without, unchanged, skipped, and
        # (cancelled) not done yet.
        skipped = len(summary.skipped)
        parts = (summary.photos_with_faces, summary.photos_without_faces, summary.unchanged,
                 skipped)
        rest = max(0, summary.photos_found - sum(parts))
        lines += [
            self.tr("Files found: {n}").format(n=summary.photos_found),
            "&nbsp;&nbsp;" + self.tr("indexed now, with faces: {n}").format(
                n=summary.photos_with_faces),
            "&nbsp;&nbsp;" + self.tr("indexed now, without faces: {n}").format(
                n=summary.photos_without_faces),
            "&nbsp;&nbsp;" + self.tr("already in the library, unchanged: {n}").format(
                n=summary.unchanged),
            "&nbsp;&nbsp;" + self.tr("skipped (listed below): {n}").format(n=skipped),
        ]
        if rest:
            lines.append("&nbsp;&nbsp;" + self.tr("not done yet: {n}").format(n=rest))
        lines.append(self.tr("Faces found: {n}").format(n=summary.faces_added))
        if summary.removed:
            lines.append(self.tr("Deleted photos forgotten: {n}").format(n=summary.removed))
        self.text.setText("<br>".join(lines))
        # One file a line, its reason under it: a list that reads evenly whatever the lengths.
        self.skipped.setPlainText("\n".join(f"{s.path}\n    {s.reason}"
                                            for s in summary.skipped))


class IndexWizard(QWizard):
    """Index a folder into a library. ``indexed(library)`` fires when a job ends."""

    indexed = Signal(str)

    def __init__(self, client, library: str, parent: QWidget | None = None,
                 settings=None) -> None:
        super().__init__(parent)
        self.client = client
        self.settings = settings
        self.setWindowTitle(self.tr("Index a folder"))
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        # The summary's Back would return to a finished progress page.
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.folder_page = FolderPage(library)
        self.options_page = OptionsPage(client.runner)
        self.progress_page = ProgressPage()
        self.summary_page = SummaryPage()
        for page in (self.folder_page, self.options_page, self.progress_page,
                     self.summary_page):
            self.addPage(page)
        client.libraryStats.connect(self.folder_page.show_stats)
        self.folder_page.stats_wanted.connect(client.library_info)
        self.folder_page._library_changed(self.folder_page.library_name())
        self.progress_page.cancel.clicked.connect(self.cancel_job)
        self.summary_page.resume.clicked.connect(self.resume)
        self.currentIdChanged.connect(self._page_changed)
        svc = client
        svc.indexProgress.connect(self._progress)
        svc.indexDone.connect(self._done)
        svc.indexFailed.connect(self._failed)
        self.job: int | None = None
        self.summary = None
        if settings is not None:  # the folder indexed last time
            last = str(settings.value("wizard/folder", "") or "")
            if last and os.path.isdir(last):
                self.folder_page.folder.setText(last)
        self.setAcceptDrops(True)  # a folder dropped anywhere on the first step (its header too)
        self.resize(640, 520)

    @property
    def running(self) -> bool:
        return self.job is not None

    def dragEnterEvent(self, event) -> None:
        if self.currentPage() is self.folder_page and dropped_folder(event.mimeData()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        folder = dropped_folder(event.mimeData())
        if self.currentPage() is self.folder_page and folder:
            self.folder_page.folder.setText(folder)
            event.acceptProposedAction()

    def _page_changed(self, page_id: int) -> None:
        page = self.page(page_id)
        # From the progress page on, the page's own "Stop indexing" button replaces Cancel
        # (closing the wizard still asks whether to stop).
        self.setOption(QWizard.WizardOption.NoCancelButton,
                       page in (self.progress_page, self.summary_page))
        if page is self.progress_page and self.job is None and not self.progress_page.done:
            self.start()

    def start(self) -> None:
        """Start the job (it runs in a worker process)."""
        self.progress_page.panel.reset()
        self.progress_page.cancel.setEnabled(True)
        if self.settings is not None:
            self.settings.setValue("wizard/folder", self.folder_page.folder_path())
        self.job = self.client.index(
            self.folder_page.library_name(), self.folder_page.folder_path(),
            self.options_page.recursive.isChecked(), self.options_page.min_face.value(),
            self.options_page.extensions())

    def cancel_job(self) -> None:
        if self.running:
            self.progress_page.cancel.setEnabled(False)
            self.progress_page.panel.current.setText(self.tr("Stopping…"))
            self.client.cancel_index()

    def _progress(self, req: int, progress, crops) -> None:
        if req == self.job:
            self.progress_page.panel.update_progress(progress, crops)

    def _done(self, req: int, summary) -> None:
        if req != self.job:
            return
        self.job = None
        self.summary = summary
        self._finish()
        self.summary_page.show_summary(summary)
        self.indexed.emit(self.folder_page.library_name())
        if self.currentPage() is self.progress_page:
            self.next()

    def _failed(self, req: int, message: str) -> None:
        if req != self.job:
            return
        self.job = None
        self._finish()
        self.summary_page.show_summary(None, message, self.client.can_resume(req))
        if self.currentPage() is self.progress_page:
            self.next()

    def resume(self) -> None:
        """After the worker died: back to the progress page, running the same job again (what
        was committed is kept; only the rest is indexed)."""
        self.summary_page.resume.hide()
        self.progress_page.done = False
        if self.currentPage() is self.summary_page:
            self.back()  # _page_changed starts the job
        else:
            self.start()

    def _finish(self) -> None:
        self.progress_page.done = True
        self.progress_page.cancel.setEnabled(False)
        self.progress_page.completeChanged.emit()

    def confirm_stop(self) -> bool:
        """Ask whether to stop the running job (tests replace this)."""
        return ask_yes_no(
            self, self.tr("Stop indexing?"),
            self.tr("Indexing is still running. Stop it? What was indexed so far is kept."))

    def reject(self) -> None:
        if self.running:
            if not self.confirm_stop():
                return
            self.cancel_job()
        super().reject()
