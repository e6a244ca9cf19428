"""Face names in XMP, end to end with the real model and real photos: sidecars written for all
eight EXIF orientations and read back by exiftool, the round trip (write, delete the library,
index again, same names), a folder tagged by other programs named with no user action, and the
command line's one-line answers.

exiftool is Debian's ``libimage-exiftool-perl`` (``scripts/test`` installs it where it can); the
tests that need it are skipped, with that reason, where it is missing.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageOps
from PIL.PngImagePlugin import PngInfo

from helpers import FACES, GROUPS, copy_faces, ff
from facefinder.core import people
from facefinder.core.face_names import DRAWN_CONFIDENCE, write_names
from facefinder.core.library import Library
from facefinder.core.scan import index_folder

EXIFTOOL = shutil.which("exiftool")
needs_exiftool = pytest.mark.skipif(
    EXIFTOOL is None, reason="exiftool is not installed (Debian: libimage-exiftool-perl)")

GROUP = GROUPS / "dlib_2008_001322.jpg"  # 500 x 375, three faces
# stored = shown.transpose(op) gives a file that shows the same photo under that orientation
STORE = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
         4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
         6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE,
         8: Image.Transpose.ROTATE_270}



def index(lib: Library, engine, folder: Path):
    *_, last = index_folder(lib, engine, folder)
    return last.summary


def exiftool(*args) -> list[dict]:
    out = subprocess.run([EXIFTOOL, "-j", "-n", *map(str, args)], capture_output=True,
                         timeout=120)
    return json.loads(out.stdout)


def oriented_copy(shown: Image.Image, value: int, path: Path) -> None:
    """Save ``shown`` so that it is stored turned and shown the same under orientation
    ``value`` (pixels transposed, the EXIF tag set)."""
    stored = shown if STORE[value] is None else shown.transpose(STORE[value])
    exif = Image.Exif()
    exif[0x0112] = value
    stored.save(path, "JPEG", quality=95, exif=exif.tobytes())


def shown_bbox(photo: Path, stored_px: tuple[float, float, float, float]) -> tuple:
    """Where a rectangle of the stored image lands in the photo as shown, found by Pillow's own
    transpose of a mask (independent of facefinder's orientation code)."""
    with Image.open(photo) as im:
        mask = Image.new("L", im.size, 0)
        x, y, w, h = (round(v) for v in stored_px)
        mask.paste(255, (x, y, x + w, y + h))
        exif = Image.Exif()
        exif[0x0112] = im.getexif().get(0x0112, 1)
    buf = io.BytesIO()
    mask.save(buf, "PNG", exif=exif.tobytes())
    buf.seek(0)
    return ImageOps.exif_transpose(Image.open(buf)).getbbox()


def clipped(box, size) -> tuple:
    x, y, w, h = box
    return max(0, x), max(0, y), min(size[0], x + w), min(size[1], y + h)


def near(a, b, tol=1) -> bool:
    return all(abs(p - q) <= tol for p, q in zip(a, b))


def named_boxes(lib: Library) -> dict[tuple[str, tuple], str]:
    named = people.named_faces(lib)
    rows = lib.face_rows(list(named))
    return {(rows[f].path, tuple(rows[f].box)): n for f, n in named.items()}


# -- writing, all eight orientations -------------------------------------------------------------
@needs_exiftool
def test_sidecars_for_all_eight_orientations_read_back_by_exiftool(tmp_path, engine):
    shown = ImageOps.exif_transpose(Image.open(GROUP)).convert("RGB")
    photos = tmp_path / "photos"
    photos.mkdir()
    for value in STORE:
        oriented_copy(shown, value, photos / f"o{value}.jpg")
        with Image.open(photos / f"o{value}.jpg") as im:  # the copy shows the same photo
            assert ImageOps.exif_transpose(im).size == shown.size
    with Library(tmp_path / "lib", engine.fingerprint) as lib:
        index(lib, engine, photos)
        faces = lib.query("SELECT faces.id, photos.path, x FROM faces JOIN photos ON "
                          "photos.id = faces.photo_id ORDER BY photos.path, x")
        assert len(faces) == 3 * 8, "the detector should find the three faces in every copy"
        # The same face in each copy gets one name: left, middle, right as shown.
        names = {fid: ("Left", "Middle", "Right")[i % 3] for i, (fid, _p, _x) in
                 enumerate(faces)}
        result = people.name_faces(lib, names)
        assert result.named == 24 and result.created == 3 and not result.conflicts
        assert sorted(p.size for p in people.people(lib)) == [8, 8, 8]
        report = write_names(lib)
        assert report.created == 8 and not report.skipped
        named = people.named_faces(lib)
        rows = lib.face_rows(list(named))
        stored = {(Path(rows[f].path).name, n): rows[f].box for f, n in named.items()}
    tags = ["-RegionName", "-RegionType", "-RegionAreaX", "-RegionAreaY", "-RegionAreaW",
            "-RegionAreaH", "-RegionAreaUnit", "-RegionAppliedToDimensionsW",
            "-RegionAppliedToDimensionsH", "-RegionAppliedToDimensionsUnit",
            "-RegionRectangle", "-RegionPersonDisplayName", "-PersonInImage", "-TagsList",
            "-HierarchicalSubject"]
    for value in STORE:
        photo = photos / f"o{value}.jpg"
        assert (photos / f"o{value}.jpg.xmp").is_file()
        (meta,) = exiftool(*tags, photos / f"o{value}.jpg.xmp")
        with Image.open(photo) as im:
            stored_size = im.size  # the raw pixel grid, before the orientation
        assert (meta["RegionAppliedToDimensionsW"], meta["RegionAppliedToDimensionsH"]) == \
            stored_size and meta["RegionAppliedToDimensionsUnit"] == "pixel"
        assert sorted(meta["RegionName"]) == ["Left", "Middle", "Right"]
        assert meta["RegionType"] == ["Face"] * 3
        assert meta["RegionAreaUnit"] == ["normalized"] * 3
        assert sorted(meta["PersonInImage"]) == ["Left", "Middle", "Right"]
        assert sorted(meta["TagsList"]) == ["People/Left", "People/Middle", "People/Right"]
        assert sorted(meta["HierarchicalSubject"]) == ["People|Left", "People|Middle",
                                                       "People|Right"]
        rects = [float(v) for r in meta["RegionRectangle"] for v in r.split(",")]
        assert meta["RegionPersonDisplayName"] == meta["RegionName"]
        sw, sh = stored_size
        for i, name in enumerate(meta["RegionName"]):
            box = stored[(photo.name, name)]
            x, y = meta["RegionAreaX"][i], meta["RegionAreaY"][i]
            w, h = meta["RegionAreaW"][i], meta["RegionAreaH"][i]
            mwg = ((x - w / 2) * sw, (y - h / 2) * sh, w * sw, h * sh)
            left, top, mw, mh = rects[4 * i:4 * i + 4]
            assert near((left, top, mw, mh), (x - w / 2, y - h / 2, w, h), 2e-6)
            # Turned back by Pillow, the stored-image region is the face box as shown.
            assert near(shown_bbox(photo, mwg), clipped(box, shown.size)), (value, name)


# -- the round trip ------------------------------------------------------------------------------
@needs_exiftool
def test_write_delete_the_library_index_again_same_names(tmp_path, engine):
    photos = tmp_path / "photos"
    copy_faces(photos, ["al_gore", "bill_clinton", "david_beckham"], 3)
    shown = ImageOps.exif_transpose(Image.open(GROUP)).convert("RGB")
    oriented_copy(shown, 6, photos / "group-turned.jpg")
    lib_path = tmp_path / "lib"
    with Library(lib_path, engine.fingerprint) as lib:
        index(lib, engine, photos)
        people.cluster(lib)
        for i, p in enumerate(people.people(lib)):
            people.rename(lib, p.id, f"Person {i} ({p.size})")
        before = named_boxes(lib)
        names_before = sorted(p.name for p in people.people(lib))
    assert len(before) >= 12
    out = ff("people", "--library", lib_path, "--write-xmp")
    assert "Wrote 10 sidecars (10 new, 0 updated)" in out.stdout, out.stdout
    meta = exiftool("-RegionName", "-PersonInImage", photos / "group-turned.jpg.xmp")[0]
    assert sorted(meta["PersonInImage"]) == sorted(set(meta["RegionName"]))
    ff("library", "remove", lib_path, "--yes")
    assert not lib_path.exists()
    out = ff("index", photos, "--library", lib_path, "-q").stdout
    assert f"named from XMP:        {len(before)} faces" in out, out
    with Library(lib_path, engine.fingerprint) as lib:
        assert named_boxes(lib) == before
        assert sorted(p.name for p in people.people(lib)) == names_before
    # Writing again changes nothing.
    out = ff("people", "--library", lib_path, "--write-xmp").stdout
    assert "Wrote 0 sidecars (0 new, 0 updated), 10 already up to date" in out, out


# -- reading what other programs wrote ------------------------------------------------------------
DIGIKAM = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:digiKam="http://www.digikam.org/ns/1.0/"
    xmlns:MP="http://ns.microsoft.com/photo/1.2/"
    xmlns:MPRI="http://ns.microsoft.com/photo/1.2/t/RegionInfo#"
    xmlns:MPReg="http://ns.microsoft.com/photo/1.2/t/Region#"
    xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
    xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#"
    xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#">
   <digiKam:TagsList><rdf:Seq><rdf:li>People/{name}</rdf:li></rdf:Seq></digiKam:TagsList>
   <MP:RegionInfo rdf:parseType="Resource"><MPRI:Regions><rdf:Bag>
     <rdf:li MPReg:Rectangle="{left}, {top}, {w}, {h}" MPReg:PersonDisplayName="{name}"/>
   </rdf:Bag></MPRI:Regions></MP:RegionInfo>
   <mwg-rs:Regions rdf:parseType="Resource">
    <mwg-rs:AppliedToDimensions stDim:w="{sw}" stDim:h="{sh}" stDim:unit="pixel"/>
    <mwg-rs:RegionList><rdf:Seq>
     <rdf:li><rdf:Description mwg-rs:Name="{name}" mwg-rs:Type="Face">
      <mwg-rs:Area stArea:x="{cx}" stArea:y="{cy}" stArea:w="{w}" stArea:h="{h}"
                   stArea:unit="normalized"/></rdf:Description></rdf:li>
    </rdf:Seq></mwg-rs:RegionList>
   </mwg-rs:Regions>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>
"""

WINDOWS = """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
 xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about=""
 xmlns:MP="http://ns.microsoft.com/photo/1.2/"
 xmlns:MPRI="http://ns.microsoft.com/photo/1.2/t/RegionInfo#"
 xmlns:MPReg="http://ns.microsoft.com/photo/1.2/t/Region#"><MP:RegionInfo><rdf:Description>
 <MPRI:Regions><rdf:Bag><rdf:li><rdf:Description>
  <MPReg:Rectangle>{left}, {top}, {w}, {h}</MPReg:Rectangle>
  <MPReg:PersonDisplayName>{name}</MPReg:PersonDisplayName>
 </rdf:Description></rdf:li></rdf:Bag></MPRI:Regions></rdf:Description></MP:RegionInfo>
</rdf:Description></rdf:RDF></x:xmpmeta>"""


def region(photo: Path, box, name: str, template: str = DIGIKAM, grow: float = 0.1,
           shown_frame: bool = False) -> str:
    """A hand-written region for a face box (shown pixels), the box drawn a little larger and
    off-centre as another program would, in the stored image's coordinates (found by Pillow
    transposing a mask the other way); ``shown_frame``: as programs that ignore MWG's rule
    write it, relative to the photo as shown, with the shown size as AppliedToDimensions."""
    with Image.open(photo) as im:
        value = im.getexif().get(0x0112, 1)
        sw, sh = im.size
    x, y, w, h = box
    x, y, w, h = x - 0.7 * grow * w, y - grow * h, w * (1 + 2 * grow), h * (1 + 2 * grow)
    shown_size = (sh, sw) if value >= 5 else (sw, sh)
    mask = Image.new("L", shown_size, 0)
    mask.paste(255, tuple(round(v) for v in (x, y, x + w, y + h)))
    if shown_frame:
        sw, sh = shown_size
    elif STORE[value] is not None:
        mask = mask.transpose(STORE[value])
    left, top, right, bottom = mask.getbbox()
    n = {"left": left / sw, "top": top / sh, "w": (right - left) / sw, "h": (bottom - top) / sh}
    return template.format(name=name, sw=sw, sh=sh, cx=n["left"] + n["w"] / 2,
                           cy=n["top"] + n["h"] / 2, **n)


def test_a_folder_tagged_elsewhere_arrives_named(tmp_path, engine):
    photos = tmp_path / "photos"
    photos.mkdir()
    gore = sorted((FACES / "al_gore").iterdir())[:3]
    clinton = sorted((FACES / "bill_clinton").iterdir())[:2]
    rice = sorted((FACES / "condoleezza_rice").iterdir())[0]
    box = {}

    def face_box(path: Path):
        _photo, faces = engine.faces_in_file(path)
        return faces[0].box

    # digiKam: photo.jpg.xmp, MWG (attributes, a Seq) and Microsoft regions, TagsList
    a = photos / "gore1.jpg"
    shutil.copyfile(gore[0], a)
    (photos / "gore1.jpg.xmp").write_text(region(a, face_box(a), "Al Gore"), "utf-8")
    # Windows Photo Gallery: photo.xmp (no .jpg), Microsoft regions only, upper case
    b = photos / "gore2.jpg"
    shutil.copyfile(gore[1], b)
    (photos / "gore2.xmp").write_text(region(b, face_box(b), "AL  GORE", WINDOWS), "utf-8")
    # embedded in the JPEG
    c = photos / "clinton1.jpg"
    shutil.copyfile(clinton[0], c)
    packet = region(c, face_box(c), "Bill Clinton").encode("utf-8")
    Image.open(clinton[0]).save(c, "JPEG", quality=95, xmp=packet)
    # embedded in a PNG (compressed iTXt)
    d = photos / "clinton2.png"
    Image.open(clinton[1]).convert("RGB").save(d, "PNG")
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", region(d, face_box(d), "Bill Clinton"), zip=True)
    Image.open(clinton[1]).convert("RGB").save(d, "PNG", pnginfo=info)
    # a photo stored turned (orientation 6), its sidecar in stored-image coordinates
    e = photos / "rice-turned.jpg"
    oriented_copy(Image.open(rice).convert("RGB"), 6, e)
    (photos / "rice-turned.jpg.xmp").write_text(region(e, face_box(e), "Condoleezza Rice"),
                                                "utf-8")
    # a portrait photo turned the other way (8), its regions written relative to the photo as
    # shown (not as MWG says), which AppliedToDimensions (the shown size) gives away
    affleck = photos / "affleck-turned.jpg"
    portrait = FACES / "ben_affleck" / \
        "celeb5_train-httpssmediacacheakpinimgcomxdbbdbbbececacdecdcdfjpg.jpg"
    oriented_copy(Image.open(portrait).convert("RGB"), 8, affleck)
    assert Image.open(affleck).size == (314, 236)
    (photos / "affleck-turned.jpg.xmp").write_text(
        region(affleck, face_box(affleck), "Ben Affleck", shown_frame=True), "utf-8")
    # a face the detector misses (upside down), with a box drawn by hand in digiKam
    f = photos / "upside-down.jpg"
    canvas = Image.new("RGB", (600, 400), (128, 128, 128))
    beckham = Image.open(sorted((FACES / "david_beckham").iterdir())[0]).convert("RGB")
    canvas.paste(beckham.rotate(180), (300, 80))
    canvas.save(f, "JPEG", quality=95)
    assert engine.faces_in_file(f)[1] == [], "the detector should miss the upside-down face"
    drawn_box = (300 + 60, 80 + 50, 130, 160)
    (photos / "upside-down.jpg.xmp").write_text(region(f, drawn_box, "David Beckham",
                                                       grow=0.0), "utf-8")
    # an unnamed region over no face (another detector's guess): not made into a face
    blank = photos / "blank.jpg"
    Image.new("RGB", (400, 300), (90, 120, 150)).save(blank, "JPEG")
    (photos / "blank.jpg.xmp").write_text(region(blank, (100, 100, 80, 100), "", grow=0.0),
                                          "utf-8")
    # a damaged sidecar, and an untagged photo
    g = photos / "gore3.jpg"
    shutil.copyfile(gore[2], g)
    (photos / "gore3.jpg.xmp").write_text(region(g, face_box(g), "Al Gore")[:300], "utf-8")

    lib_path = tmp_path / "lib"
    out = ff("index", photos, "--library", lib_path, "-q").stdout
    assert "named from XMP:        7 faces (1 drawn by hand in another program, added)" in out
    assert "gore3.jpg: the sidecar gore3.jpg.xmp is damaged (not well-formed XML" in out, out
    with Library(lib_path, engine.fingerprint) as lib:
        groups = {p.name: p for p in people.people(lib)}
        assert set(groups) == {"Al Gore", "Bill Clinton", "Condoleezza Rice", "Ben Affleck",
                               "David Beckham"}
        rows = lib.face_rows([f for p in groups.values() for f in p.face_ids])
        where = {n: sorted(Path(rows[f].path).name for f in p.face_ids)
                 for n, p in groups.items()}
        assert where == {"Al Gore": ["gore1.jpg", "gore2.jpg"],
                         "Bill Clinton": ["clinton1.jpg", "clinton2.png"],
                         "Condoleezza Rice": ["rice-turned.jpg"],
                         "Ben Affleck": ["affleck-turned.jpg"],
                         "David Beckham": ["upside-down.jpg"]}
        assert not lib.query("SELECT faces.id FROM faces JOIN photos ON photos.id = "
                             "faces.photo_id WHERE photos.display LIKE '%blank.jpg'")
        (drawn,) = groups["David Beckham"].face_ids
        assert rows[drawn].confidence == DRAWN_CONFIDENCE
        assert near(rows[drawn].box, drawn_box)
        assert all(rows[f].confidence > 0.6 for n, p in groups.items() if n != "David Beckham"
                   for f in p.face_ids)
        # the drawn face is searchable like any other
        vec = lib.all_embeddings()[1][list(lib.all_embeddings()[0]).index(drawn)]
        assert lib.search(vec, 1)[0].face.face_id == drawn
        # grouping afterwards keeps the names, and the untagged photo's face joins Al Gore
        people.cluster(lib)
        (largest,), = lib.query("SELECT faces.id FROM faces JOIN photos ON photos.id = "
                                "faces.photo_id WHERE photos.display LIKE '%gore3.jpg' "
                                "ORDER BY w * h DESC LIMIT 1")
        assert people.person_of(lib, [largest])[largest][1] == "Al Gore"
    # Nothing is read twice; a sidecar changed later (a new name) is read again.
    out = ff("index", photos, "--library", lib_path, "-q").stdout
    assert "named from XMP" not in out, out
    (photos / "rice-turned.jpg.xmp").write_text(region(e, face_box(e), "Condi"), "utf-8")
    out = ff("index", photos, "--library", lib_path, "-q").stdout
    assert "the XMP names a face 'Condi', which facefinder has as 'Condoleezza Rice'; kept" in out


# -- the command line ------------------------------------------------------------------------------
@pytest.fixture
def named_library(tmp_path, engine):
    photos = tmp_path / "photos"
    copy_faces(photos, ["al_gore", "bill_clinton"], 2)
    lib_path = tmp_path / "lib"
    with Library(lib_path, engine.fingerprint) as lib:
        index(lib, engine, photos)
        people.cluster(lib)
        for p in people.people(lib):
            rows = lib.face_rows(p.face_ids)
            folder = {Path(r.path).parent.name for r in rows.values()}
            if len(folder) == 1:
                people.rename(lib, p.id, folder.pop().replace("_", " ").title())
    return photos, lib_path


def test_dry_run_person_damaged_and_read_only(named_library, monkeypatch):
    photos, lib = named_library
    out = ff("people", "--library", lib, "--write-xmp", "--dry-run").stdout
    assert out.count("would create ") == 4 and "Would write 4 sidecars (4 new" in out
    assert not list(photos.rglob("*.xmp"))
    gore = sorted((photos / "al_gore").iterdir())
    damaged = gore[0].parent / (gore[0].name + ".xmp")
    damaged.write_bytes(b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF")
    out = ff("people", "--library", lib, "--write-xmp", "--person", "al gore").stdout
    assert f"skipped {gore[0]}: the sidecar {damaged.name} is damaged (not well-formed XML" \
        in out
    assert "Wrote 1 sidecar (1 new, 0 updated), 0 already up to date, 1 skipped" in out, out
    assert damaged.read_bytes() == b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF"
    assert not list((photos / "bill_clinton").glob("*.xmp"))
    proc = ff("people", "--library", lib, "--dry-run", check=False)
    assert proc.returncode == 2 and "go with --write-xmp" in proc.stderr
    proc = ff("people", "--library", lib, "--write-xmp", "--person", "Nobody", check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "No person named 'Nobody'" in proc.stderr
    folder = photos / "bill_clinton"
    if os.geteuid() == 0:
        # Root writes into read-only folders; refuse as the file system would for others.
        from facefinder.core import xmp_files

        real = xmp_files.write_sidecar

        def refuse(path, data):
            if Path(path).parent == folder:
                raise PermissionError(13, "Permission denied", path)
            return real(path, data)

        monkeypatch.setattr(xmp_files, "write_sidecar", refuse)
        with Library(lib, None) as opened:
            report = write_names(opened)
        lines = [f"skipped {p}: {r}" for p, r in report.skipped]
    else:
        folder.chmod(0o555)
        try:
            lines = ff("people", "--library", lib, "--write-xmp").stdout.splitlines()
        finally:
            folder.chmod(0o755)
    assert sum(f".jpg.xmp (the folder {folder} is read-only)" in line
               for line in lines) == 2, lines
    assert not list(folder.glob("*.xmp*"))


# -- how XMP names meet the groups (plumbing, on synthetic vectors) -----------------------------
def _blobs(tmp_path, centres: int = 4, per: int = 5):
    """A library of ``centres`` tight blobs of ``per`` faces, grouped; returns (library,
    {blob: [face ids]})."""
    import numpy as np

    from facefinder.core.pipeline import Face, PhotoResult

    rng = np.random.default_rng(1)
    c = rng.normal(size=(centres, 128))
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    lib = Library(tmp_path / "syn", "synthetic")
    items = []
    for i in range(centres * per):
        v = c[i // per] + rng.normal(0, 0.03, 128)
        face = Face((0, 0, 50, 50), 0.99, np.zeros((5, 2), np.float32),
                    (v / np.linalg.norm(v)).astype(np.float32))
        items.append((PhotoResult(str(tmp_path / f"{i}.jpg"), [face], None, 100, 100), 1, 1))
    ids = lib.store_results(items)
    people.cluster(lib)
    blobs: dict[int, list[int]] = {}
    for i, f in enumerate(ids):
        blobs.setdefault(i // per, []).append(f)
    assert len(people.people(lib)) == centres
    return lib, blobs


def test_names_follow_the_groups_and_respect_the_users_corrections(tmp_path):
    lib, blobs = _blobs(tmp_path)
    owner = lambda f: people.person_of(lib, [f])[f]  # noqa: E731
    # blob 0: one tagged face names its whole (unnamed) group
    # blob 1: the user named it "Bea" already; a tag "bea" (other case) agrees
    # blob 2: the user named it "Cy"; a tag says "Dee": kept as "Cy", reported
    # blob 3: tags disagree ("Eve" and "Fay"): each tagged face moves, the rest stay unnamed
    people.rename(lib, owner(blobs[1][0])[0], "Bea")
    people.rename(lib, owner(blobs[2][0])[0], "Cy")
    result = people.name_faces(lib, {blobs[0][0]: "Ann", blobs[1][1]: "bea",
                                     blobs[2][2]: "Dee", blobs[3][0]: "Eve",
                                     blobs[3][1]: "Fay"})
    assert {f: owner(f)[1] for f in blobs[0]} == {f: "Ann" for f in blobs[0]}
    assert {owner(f)[1] for f in blobs[1]} == {"Bea"} and result.already == 1
    assert {owner(f)[1] for f in blobs[2]} == {"Cy"}
    assert result.conflicts == [(blobs[2][2], "Dee", "Cy")]
    assert owner(blobs[3][0])[1] == "Eve" and owner(blobs[3][1])[1] == "Fay"
    assert {owner(f)[1] for f in blobs[3][2:]} == {None}
    assert result.named == 3 and result.created == 2  # of the faces tagged
    # A name in a second group: its unnamed rest takes the tag "ANN" and joins Ann's person.
    people.name_faces(lib, {blobs[3][2]: "ANN"})
    ann = {owner(f)[0] for f in blobs[0] + blobs[3][2:]}
    assert len(ann) == 1 and [p.name for p in people.people(lib)].count("Ann") == 1
    # A face the user took out of a person is not put back by a tag.
    people.move_out(lib, blobs[1][3])
    result = people.name_faces(lib, {blobs[1][3]: "Bea"})
    assert result.conflicts == [(blobs[1][3], "Bea", None)] and owner(blobs[1][3])[1] is None
    lib.close()
