"""XMP face regions without the model: reading every RDF form of the MWG and Microsoft region
structs, updating a sidecar that other programs wrote, damaged XMP, embedded packets, and the
eight EXIF orientations checked against Pillow's own transposes.

The fixtures are written here by hand from the specifications (MWG Guidelines for Handling Image
Metadata 2.0, section 5.9; Microsoft's People Tagging overview; the XMP specification part 1 for
the RDF forms); no file was copied from another program.
"""

from __future__ import annotations

import io
import random
import shutil
import subprocess
import zlib

import pytest
from PIL import Image, ImageOps
from PIL.PngImagePlugin import PngInfo

from facefinder.core import orientation, xmp, xmp_files

NS = (' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
      ' xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"'
      ' xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#"'
      ' xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#"'
      ' xmlns:MP="http://ns.microsoft.com/photo/1.2/"'
      ' xmlns:MPRI="http://ns.microsoft.com/photo/1.2/t/RegionInfo#"'
      ' xmlns:MPReg="http://ns.microsoft.com/photo/1.2/t/Region#"'
      ' xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"')


def packet(body: str, ns: str = NS) -> bytes:
    return (f'<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
            f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF{ns}>{body}</rdf:RDF></x:xmpmeta>\n'
            '<?xpacket end="w"?>').encode("utf-8")


# MWG, the compact form: structs as nested rdf:Description with fields as attributes; a Bag.
MWG_ATTRIBUTES = packet("""
<rdf:Description rdf:about="">
 <mwg-rs:Regions>
  <rdf:Description>
   <mwg-rs:AppliedToDimensions>
    <rdf:Description stDim:w="4000" stDim:h="3000" stDim:unit="pixel"/>
   </mwg-rs:AppliedToDimensions>
   <mwg-rs:RegionList>
    <rdf:Bag>
     <rdf:li>
      <rdf:Description mwg-rs:Name="Ann" mwg-rs:Type="Face">
       <mwg-rs:Area stArea:x="0.5" stArea:y="0.4" stArea:w="0.2" stArea:h="0.3"
                    stArea:unit="normalized"/>
      </rdf:Description>
     </rdf:li>
     <rdf:li mwg-rs:Name="Ben" mwg-rs:Type="Face">
     </rdf:li>
    </rdf:Bag>
   </mwg-rs:RegionList>
  </rdf:Description>
 </mwg-rs:Regions>
</rdf:Description>""")

# MWG, the long form: rdf:parseType="Resource" and fields as elements; a Seq; regions that are
# not faces, a point (no size) and a face without a name; an area in pixels.
MWG_ELEMENTS = packet("""
<rdf:Description rdf:about="">
 <mwg-rs:Regions rdf:parseType="Resource">
  <mwg-rs:AppliedToDimensions rdf:parseType="Resource">
   <stDim:w>2000</stDim:w><stDim:h>1000</stDim:h><stDim:unit>pixel</stDim:unit>
  </mwg-rs:AppliedToDimensions>
  <mwg-rs:RegionList>
   <rdf:Seq>
    <rdf:li rdf:parseType="Resource">
     <mwg-rs:Type>Face</mwg-rs:Type>
     <mwg-rs:Name>Cleo  Smith</mwg-rs:Name>
     <mwg-rs:Area rdf:parseType="Resource">
      <stArea:x>0.25</stArea:x><stArea:y>0.5</stArea:y><stArea:w>0.1</stArea:w>
      <stArea:h>0.2</stArea:h><stArea:unit>normalized</stArea:unit>
     </mwg-rs:Area>
    </rdf:li>
    <rdf:li rdf:parseType="Resource">
     <mwg-rs:Type>Pet</mwg-rs:Type><mwg-rs:Name>Rex</mwg-rs:Name>
     <mwg-rs:Area stArea:x="0.7" stArea:y="0.7" stArea:w="0.1" stArea:h="0.1"
                  stArea:unit="normalized"/>
    </rdf:li>
    <rdf:li rdf:parseType="Resource">
     <mwg-rs:Type>Focus</mwg-rs:Type>
     <mwg-rs:Area stArea:x="0.5" stArea:y="0.5" stArea:unit="normalized"/>
    </rdf:li>
    <rdf:li rdf:parseType="Resource">
     <mwg-rs:Type>Face</mwg-rs:Type>
     <mwg-rs:Area stArea:x="1500" stArea:y="300" stArea:w="200" stArea:h="100"
                  stArea:unit="pixel"/>
    </rdf:li>
    <rdf:li rdf:parseType="Resource">
     <mwg-rs:Name>Point</mwg-rs:Name>
     <mwg-rs:Area stArea:x="0.1" stArea:y="0.1" stArea:unit="normalized"/>
    </rdf:li>
   </rdf:Seq>
  </mwg-rs:RegionList>
 </mwg-rs:Regions>
 <Iptc4xmpExt:PersonInImage><rdf:Bag><rdf:li>Cleo Smith</rdf:li></rdf:Bag>
 </Iptc4xmpExt:PersonInImage>
</rdf:Description>""")

# Microsoft (Windows Live Photo Gallery): MP:RegionInfo as a nested rdf:Description.
MICROSOFT = packet("""
<rdf:Description rdf:about="">
 <MP:RegionInfo>
  <rdf:Description>
   <MPRI:Regions>
    <rdf:Bag>
     <rdf:li>
      <rdf:Description MPReg:PersonDisplayName="Dora" MPReg:Rectangle="0.1, 0.2, 0.3, 0.4"/>
     </rdf:li>
     <rdf:li rdf:parseType="Resource">
      <MPReg:Rectangle>0.6,0.1,0.2,0.2</MPReg:Rectangle>
      <MPReg:PersonDisplayName>Eli</MPReg:PersonDisplayName>
     </rdf:li>
     <rdf:li rdf:parseType="Resource">
      <MPReg:Rectangle>not, a, rectangle</MPReg:Rectangle>
     </rdf:li>
    </rdf:Bag>
   </MPRI:Regions>
  </rdf:Description>
 </MP:RegionInfo>
</rdf:Description>""")

# Both, as digiKam writes them (two rdf:Description elements), with a Microsoft region over a
# face that has no MWG region, and one over the same face as an unnamed MWG region.
BOTH = packet("""
<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="3">
 <mwg-rs:Regions rdf:parseType="Resource">
  <mwg-rs:RegionList><rdf:Bag>
   <rdf:li rdf:parseType="Resource"><mwg-rs:Name>Fay</mwg-rs:Name><mwg-rs:Type>Face</mwg-rs:Type>
    <mwg-rs:Area stArea:x="0.2" stArea:y="0.2" stArea:w="0.1" stArea:h="0.1"
                 stArea:unit="normalized"/></rdf:li>
   <rdf:li rdf:parseType="Resource"><mwg-rs:Type>Face</mwg-rs:Type>
    <mwg-rs:Area stArea:x="0.8" stArea:y="0.2" stArea:w="0.1" stArea:h="0.1"
                 stArea:unit="normalized"/></rdf:li>
  </rdf:Bag></mwg-rs:RegionList>
 </mwg-rs:Regions>
</rdf:Description>
<rdf:Description rdf:about="">
 <MP:RegionInfo rdf:parseType="Resource"><MPRI:Regions><rdf:Bag>
  <rdf:li MPReg:PersonDisplayName="Fay" MPReg:Rectangle="0.15, 0.15, 0.1, 0.1"/>
  <rdf:li MPReg:PersonDisplayName="Gus" MPReg:Rectangle="0.75, 0.15, 0.1, 0.1"/>
  <rdf:li MPReg:PersonDisplayName="Hal" MPReg:Rectangle="0.4, 0.6, 0.2, 0.2"/>
 </rdf:Bag></MPRI:Regions></MP:RegionInfo>
</rdf:Description>""")


def close(a, b, tol=1e-9) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b))


def test_mwg_in_attribute_form_and_a_bag():
    faces = xmp.read_faces(xmp.parse(MWG_ATTRIBUTES))
    assert faces.applied_to == (4000, 3000)
    # Ben has no area: not a face box. Ann's centre (0.5, 0.4) -> left, top = 0.4, 0.25.
    assert [r.name for r in faces.regions] == ["Ann"] and faces.unusable == 1
    assert close(faces.regions[0].rect, (0.4, 0.25, 0.2, 0.3))


def test_mwg_in_element_form_and_a_seq():
    faces = xmp.read_faces(xmp.parse(MWG_ELEMENTS))
    assert faces.applied_to == (2000, 1000)
    assert [r.name for r in faces.regions] == ["Cleo Smith", None]  # pets and focus left out
    assert close(faces.regions[0].rect, (0.2, 0.4, 0.1, 0.2))
    # pixels, relative to AppliedToDimensions: centre (1500, 300), 200 x 100 of 2000 x 1000
    assert close(faces.regions[1].rect, (0.7, 0.25, 0.1, 0.1))
    assert faces.unusable == 1  # the point
    assert faces.persons == ["Cleo Smith"]


def test_microsoft_regions():
    faces = xmp.read_faces(xmp.parse(MICROSOFT))
    assert [(r.name, r.source) for r in faces.regions] == [("Dora", "mp"), ("Eli", "mp")]
    assert close(faces.regions[0].rect, (0.1, 0.2, 0.3, 0.4))
    assert close(faces.regions[1].rect, (0.6, 0.1, 0.2, 0.2))
    assert faces.unusable == 1


def test_mwg_and_microsoft_together_count_each_face_once():
    faces = xmp.read_faces(xmp.parse(BOTH))
    got = sorted((r.name, r.source) for r in faces.regions)
    # Fay twice (MWG kept), the unnamed MWG face takes Gus's name, Hal only in MP.
    assert got == [("Fay", "mwg"), ("Gus", "mwg"), ("Hal", "mp")]


@pytest.mark.parametrize("data, reason", [
    (b"", "well-formed"),
    (b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF", "well-formed"),
    (b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>", "no rdf:RDF"),
    (b"\x89PNG\r\n\x1a\n\x00\x00garbage", "well-formed"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
     b'<x>&b;</x>', "DTD"),
    ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
     .encode("utf-16"), "DTD"),
])
def test_damaged_xmp_is_refused_with_a_reason(data, reason):
    with pytest.raises(xmp.XmpError, match=reason):
        xmp.parse(data)


# -- updating a sidecar that other programs wrote --------------------------------------------------
OTHERS = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">\n'
    ' <!-- written by another program -->\n'
    ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
    '  <rdf:Description rdf:about=""\n'
    '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
    '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
    '    xmlns:digiKam="http://www.digikam.org/ns/1.0/"\n'
    '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"\n'
    '    xmp:Rating="4">\n'
    '   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Beach, 2019</rdf:li></rdf:Alt>'
    '</dc:title>\n'
    '   <digiKam:TagsList><rdf:Seq><rdf:li>Places/Paris</rdf:li><rdf:li>People/Bobby</rdf:li>'
    '<rdf:li>People/Dana</rdf:li></rdf:Seq></digiKam:TagsList>\n'
    '   <Iptc4xmpExt:PersonInImage><rdf:Bag><rdf:li>Bobby</rdf:li><rdf:li>Dana</rdf:li>'
    '</rdf:Bag></Iptc4xmpExt:PersonInImage>\n'
    '   <mwg-rs:Regions rdf:parseType="Resource"\n'
    '     xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"\n'
    '     xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#"\n'
    '     xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#">\n'
    '    <mwg-rs:AppliedToDimensions stDim:w="400" stDim:h="300" stDim:unit="pixel"/>\n'
    '    <mwg-rs:RegionList><rdf:Bag>\n'
    '     <rdf:li rdf:parseType="Resource"><mwg-rs:Type>Face</mwg-rs:Type>'
    '<mwg-rs:Name>Bobby</mwg-rs:Name><mwg-rs:Area stArea:x="0.30" stArea:y="0.30" '
    'stArea:w="0.2" stArea:h="0.2" stArea:unit="normalized"/></rdf:li>\n'
    '     <rdf:li rdf:parseType="Resource"><mwg-rs:Type>Face</mwg-rs:Type>'
    '<mwg-rs:Name>Dana</mwg-rs:Name><mwg-rs:Area stArea:x="0.80" stArea:y="0.80" '
    'stArea:w="0.1" stArea:h="0.1" stArea:unit="normalized"/></rdf:li>\n'
    '     <rdf:li rdf:parseType="Resource"><mwg-rs:Type>Pet</mwg-rs:Type>'
    '<mwg-rs:Name>Rex</mwg-rs:Name><mwg-rs:Area stArea:x="0.31" stArea:y="0.31" '
    'stArea:w="0.2" stArea:h="0.2" stArea:unit="normalized"/></rdf:li>\n'
    '    </rdf:Bag></mwg-rs:RegionList>\n'
    '   </mwg-rs:Regions>\n'
    '  </rdf:Description>\n'
    ' </rdf:RDF>\n'
    '</x:xmpmeta>\n'
    '<?xpacket end="w"?>\n').encode("utf-8")


def _ours():
    # Bob over Bobby's face (a rename in facefinder), Carl over a face no one had tagged
    return [xmp.Region((0.205, 0.2, 0.2, 0.2), "Bob", "facefinder"),
            xmp.Region((0.6, 0.1, 0.1, 0.15), "Carl", "facefinder")]


def test_updating_keeps_every_other_field_and_other_programs_regions():
    doc = xmp.parse(OTHERS)
    before = xmp.properties(doc)
    xmp.set_faces(doc, _ours(), (400, 300))
    out = xmp.serialize(doc)
    again = xmp.parse(out)
    after = xmp.properties(again)
    dc, x = "http://purl.org/dc/elements/1.1/", "http://ns.adobe.com/xap/1.0/"
    assert after[(x, "Rating")] == "4" and after[(dc, "title")] == before[(dc, "title")]
    assert b"<!-- written by another program -->" in out and b"Exiv2" in out
    assert out.startswith(b"<?xpacket begin=") and out.rstrip().endswith(b'<?xpacket end="w"?>')
    faces = xmp.read_faces(again)
    names = sorted((r.name, r.source) for r in faces.regions)
    assert names == [("Bob", "mwg"), ("Carl", "mwg"), ("Dana", "mwg")]  # Bobby replaced
    assert faces.applied_to == (400, 300)
    regions = after[(xmp.MWGRS, "Regions")][(xmp.MWGRS, "RegionList")]
    assert [r.get((xmp.MWGRS, "Name")) for r in regions] == ["Dana", "Rex", "Bob", "Carl"]
    assert faces.persons == ["Dana", "Bob", "Carl"]  # Bobby is on no region any more
    tags = after[(xmp.DIGIKAM, "TagsList")]
    assert tags == ["Places/Paris", "People/Dana", "People/Bob", "People/Carl"]
    assert after[(xmp.LR, "hierarchicalSubject")] == ["People|Bob", "People|Carl"]
    mp = after[(xmp.MP, "RegionInfo")][(xmp.MPRI, "Regions")]
    assert [(m[(xmp.MPREG, "PersonDisplayName")], m[(xmp.MPREG, "Rectangle")]) for m in mp] == [
        ("Bob", "0.205000, 0.200000, 0.200000, 0.200000"),
        ("Carl", "0.600000, 0.100000, 0.100000, 0.150000")]
    # Writing the same names again changes nothing facefinder owns.
    xmp.set_faces(again, _ours(), (400, 300))
    assert xmp.summary(again) == xmp.summary(xmp.parse(out))


@pytest.mark.skipif(shutil.which("exiftool") is None,
                    reason="exiftool is not installed (Debian: libimage-exiftool-perl)")
def test_exiftool_reads_the_updated_sidecar(tmp_path):
    doc = xmp.parse(OTHERS)
    xmp.set_faces(doc, _ours(), (400, 300))
    path = tmp_path / "photo.jpg.xmp"
    path.write_bytes(xmp.serialize(doc))
    import json

    out = json.loads(subprocess.run(
        ["exiftool", "-j", "-n", "-RegionName", "-RegionType", "-RegionAreaX",
         "-RegionPersonDisplayName", "-PersonInImage", "-Rating", "-Title", "-TagsList",
         str(path)], capture_output=True, check=True).stdout)[0]
    assert out["RegionName"] == ["Dana", "Rex", "Bob", "Carl"]
    assert out["RegionType"] == ["Face", "Pet", "Face", "Face"]
    assert out["RegionAreaX"] == [0.8, 0.31, 0.305, 0.65]
    assert out["RegionPersonDisplayName"] == ["Bob", "Carl"]
    assert out["PersonInImage"] == ["Dana", "Bob", "Carl"]
    assert out["Rating"] == 4 and out["Title"] == "Beach, 2019"
    assert out["TagsList"] == ["Places/Paris", "People/Dana", "People/Bob", "People/Carl"]


def test_a_new_document_holds_only_what_facefinder_writes():
    doc = xmp.new_document("facefinder test")
    xmp.set_faces(doc, [xmp.Region((0.1, 0.2, 0.3, 0.4), "Ann & <Co>", "facefinder")],
                  (640, 480))
    again = xmp.parse(xmp.serialize(doc))
    keys = set(xmp.properties(again))
    assert keys == {(xmp.MWGRS, "Regions"), (xmp.MP, "RegionInfo"),
                    (xmp.IPTCEXT, "PersonInImage"), (xmp.DIGIKAM, "TagsList"),
                    (xmp.LR, "hierarchicalSubject")}
    faces = xmp.read_faces(again)
    assert faces.applied_to == (640, 480) and faces.regions[0].name == "Ann & <Co>"
    assert close(faces.regions[0].rect, (0.1, 0.2, 0.3, 0.4), 1e-6)


# -- embedded packets --------------------------------------------------------------------------
def _image() -> Image.Image:
    return Image.new("RGB", (64, 48), (120, 80, 40))


def test_xmp_inside_jpeg_png_heic(tmp_path):
    jpeg = tmp_path / "a.jpg"
    _image().save(jpeg, "JPEG", xmp=MWG_ATTRIBUTES, exif=Image.Exif().tobytes())
    png = tmp_path / "b.png"
    info = PngInfo()
    info.add_text("Comment", "not XMP")
    info.add_itxt("XML:com.adobe.xmp", MWG_ELEMENTS.decode("utf-8"), zip=True)
    _image().save(png, "PNG", pnginfo=info)
    plain = tmp_path / "c.jpg"
    _image().save(plain, "JPEG")
    assert [xmp.read_faces(xmp.parse(p)).regions[0].name
            for p in xmp_files.embedded_xmp(str(jpeg))] == ["Ann"]
    assert [xmp.read_faces(xmp.parse(p)).regions[0].name
            for p in xmp_files.embedded_xmp(str(png))] == ["Cleo Smith"]
    assert xmp_files.embedded_xmp(str(plain)) == []
    pytest.importorskip("pillow_heif")
    heic = tmp_path / "d.heic"
    from facefinder.core.images import _register_heif

    _register_heif()
    _image().save(heic, xmp=MICROSOFT)
    assert [r.name for p in xmp_files.embedded_xmp(str(heic))
            for r in xmp.read_faces(xmp.parse(p)).regions] == ["Dora", "Eli"]


def test_png_xmp_after_the_image_data_and_jpeg_extended_xmp(tmp_path):
    # PNG: an iTXt chunk after IDAT (allowed anywhere before IEND), written chunk by chunk.
    buf = io.BytesIO()
    _image().save(buf, "PNG")
    data = buf.getvalue()
    iend = data.rindex(b"IEND") - 4
    body = b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + MICROSOFT

    def chunk(kind: bytes, payload: bytes) -> bytes:
        import struct

        return struct.pack(">I", len(payload)) + kind + payload + \
            struct.pack(">I", zlib.crc32(kind + payload))

    png = tmp_path / "late.png"
    png.write_bytes(data[:iend] + chunk(b"iTXt", body) + data[iend:])
    assert Image.open(png).size == (64, 48)
    assert [r.name for p in xmp_files.embedded_xmp(str(png))
            for r in xmp.read_faces(xmp.parse(p)).regions] == ["Dora", "Eli"]
    # JPEG: the main packet points to an extended one (GUID) in two APP1 segments.
    guid = b"0123456789ABCDEF0123456789ABCDEF"
    main = packet(f'<rdf:Description rdf:about="" xmlns:xmpNote="http://ns.adobe.com/xmp/'
                  f'note/" xmpNote:HasExtendedXMP="{guid.decode()}"/>')
    extended = MWG_ATTRIBUTES
    half = len(extended) // 2
    segments = b""
    import struct

    for offset, part in ((0, extended[:half]), (half, extended[half:])):
        payload = xmp_files.JPEG_EXTENDED + guid + struct.pack(">II", len(extended), offset) + \
            part
        segments += b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    buf = io.BytesIO()
    _image().save(buf, "JPEG", xmp=main)
    raw = buf.getvalue()
    jpeg = tmp_path / "ext.jpg"
    jpeg.write_bytes(raw[:2] + segments + raw[2:])
    assert Image.open(jpeg).size == (64, 48)
    packets = xmp_files.embedded_xmp(str(jpeg))
    assert len(packets) == 2
    assert [r.name for r in xmp.read_faces(xmp.parse(packets[1])).regions] == ["Ann"]


# -- orientation -----------------------------------------------------------------------------------
def _with_orientation(im: Image.Image, value: int) -> Image.Image:
    """``im`` as a file would hold it with that EXIF orientation (PNG keeps pixels exact)."""
    exif = Image.Exif()
    exif[0x0112] = value
    buf = io.BytesIO()
    im.save(buf, "PNG", exif=exif.tobytes())
    buf.seek(0)
    return Image.open(buf)


def _bbox_shown(stored_size, rect_px, value) -> tuple:
    """Where a stored-image rectangle lands in the shown photo, by Pillow's own transpose."""
    mask = Image.new("L", stored_size, 0)
    x, y, w, h = rect_px
    mask.paste(255, (x, y, x + w, y + h))
    return ImageOps.exif_transpose(_with_orientation(mask, value)).getbbox()


@pytest.mark.parametrize("value", range(1, 9))
def test_orientation_maps_agree_with_pillow(value):
    rng = random.Random(value)
    stored_w, stored_h = 60, 40
    shown_w, shown_h = orientation.stored_size(stored_w, stored_h, value)
    assert ImageOps.exif_transpose(
        _with_orientation(Image.new("L", (stored_w, stored_h)), value)).size == (shown_w, shown_h)
    for _ in range(20):
        x, y = rng.randrange(0, shown_w - 5), rng.randrange(0, shown_h - 5)
        w, h = rng.randrange(1, shown_w - x), rng.randrange(1, shown_h - y)
        stored = orientation.shown_to_stored(
            orientation.normalize((x, y, w, h), shown_w, shown_h), value)
        px = tuple(round(v) for v in orientation.to_pixels(stored, stored_w, stored_h))
        assert _bbox_shown((stored_w, stored_h), px, value) == (x, y, x + w, y + h)
        back = orientation.stored_to_shown(stored, value)
        assert close(orientation.to_pixels(back, shown_w, shown_h), (x, y, w, h), 1e-9)


@pytest.mark.parametrize("source", [MWG_ATTRIBUTES, MICROSOFT, BOTH, MWG_ELEMENTS])
def test_updating_every_form_keeps_what_is_not_ours(source):
    doc = xmp.parse(source)
    old = xmp.read_faces(doc)
    first = old.regions[0]
    ours = [xmp.Region(first.rect, "Zed", "facefinder"),
            xmp.Region((0.01, 0.01, 0.05, 0.05), "Yan", "facefinder")]
    xmp.set_faces(doc, ours, (1000, 800))
    again = xmp.parse(xmp.serialize(doc))  # still well-formed, namespaces declared
    new = xmp.read_faces(again)
    names = {r.name for r in new.regions}
    assert {"Zed", "Yan"} <= names and first.name not in names - {None}
    others = {r.name for r in old.regions[1:] if orientation.iou(r.rect, first.rect) <= 0.5}
    assert others <= names  # every other face's region is still there
    assert new.applied_to == (1000, 800)
    # fields facefinder does not own survive (the rating in BOTH; the pet in MWG_ELEMENTS)
    props = xmp.properties(again)
    if source is BOTH:
        assert props[("http://ns.adobe.com/xap/1.0/", "Rating")] == "3"
    if source is MWG_ELEMENTS:
        items = props[(xmp.MWGRS, "Regions")][(xmp.MWGRS, "RegionList")]
        assert "Pet" in [i.get((xmp.MWGRS, "Type")) for i in items]
        # its face given in pixels of the old AppliedToDimensions stays where it was
        (unnamed,) = [r for r in new.regions if r.name is None]
        assert close(unnamed.rect, (0.7, 0.25, 0.1, 0.1), 1e-4)
