<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AboutDialog</name>
    <message>
        <source>About Enclave</source>
        <translation>关于 Enclave</translation>
    </message>
    <message>
        <source>&lt;h2&gt;Enclave {0}&lt;/h2&gt;Private document assistant: your documents and questions never leave this computer.</source>
        <translation>&lt;h2&gt;Enclave {0}&lt;/h2&gt;私有文档助手：您的文档和问题永远不会离开这台电脑。</translation>
    </message>
    <message>
        <source>Library folder: {0}</source>
        <translation>资料库文件夹：{0}</translation>
    </message>
    <message>
        <source>Component</source>
        <translation>组件</translation>
    </message>
    <message>
        <source>Version</source>
        <translation>版本</translation>
    </message>
    <message>
        <source>Licence</source>
        <translation>许可证</translation>
    </message>
    <message>
        <source>Models and libraries inside:</source>
        <translation>内含的模型和程序库：</translation>
    </message>
</context>
<context>
    <name>ApiPanel</name>
    <message>
        <source>LAN API</source>
        <translation>局域网 API</translation>
    </message>
    <message>
        <source>Serve the API</source>
        <translation>提供 API 服务</translation>
    </message>
    <message>
        <source>On (other programs can search and ask with an API key)</source>
        <translation>开启（其他程序可凭 API 密钥检索和提问）</translation>
    </message>
    <message>
        <source>Reachable from</source>
        <translation>可访问范围</translation>
    </message>
    <message>
        <source>This computer only</source>
        <translation>仅本机</translation>
    </message>
    <message>
        <source>The local network</source>
        <translation>局域网</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>端口</translation>
    </message>
    <message>
        <source>API keys</source>
        <translation>API 密钥</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Scope</source>
        <translation>权限</translation>
    </message>
    <message>
        <source>Created</source>
        <translation>创建时间</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Collections</source>
        <translation>文集</translation>
    </message>
    <message>
        <source>Personal data</source>
        <translation>个人信息</translation>
    </message>
    <message>
        <source>Name of a new key, e.g. reporting-server</source>
        <translation>新密钥的名称，例如 reporting-server</translation>
    </message>
    <message>
        <source>Read-only (search, ask)</source>
        <translation>只读（检索、提问）</translation>
    </message>
    <message>
        <source>Read-write (also upload, delete)</source>
        <translation>读写（还可上传、删除）</translation>
    </message>
    <message>
        <source>The new key may use</source>
        <translation>新密钥可使用</translation>
    </message>
    <message>
        <source>All collections</source>
        <translation>所有文集</translation>
    </message>
    <message>
        <source>Only the checked collections: the key cannot search, read or change the others.</source>
        <translation>仅限勾选的文集：该密钥无法搜索、读取或更改其他文集。</translation>
    </message>
    <message>
        <source>Mask personal data</source>
        <translation>遮盖个人信息</translation>
    </message>
    <message>
        <source>E-mail addresses, phone, card and ID numbers are masked in what the key gets: search results, answers, sources, chats and conversations.</source>
        <translation>该密钥获得的内容中，电子邮件地址、电话号码、银行卡号和身份证号都会被遮盖：搜索结果、回答、来源、聊天和对话。</translation>
    </message>
    <message>
        <source>Create key</source>
        <translation>创建密钥</translation>
    </message>
    <message>
        <source>Revoke</source>
        <translation>吊销</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Copy this key now: it is not stored and will not be shown again.</source>
        <translation>请立即复制此密钥：它不会被保存，也不会再次显示。</translation>
    </message>
    <message>
        <source>Audit log…</source>
        <translation>审计日志…</translation>
    </message>
    <message>
        <source>Any machine on the network that has a key can reach the library. Traffic is not encrypted unless a certificate is set (see README).</source>
        <translation>网络中任何持有密钥的计算机都可以访问资料库。除非配置了证书，否则传输不加密（见 README）。</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>正在启动…</translation>
    </message>
    <message>
        <source>Stopped.</source>
        <translation>已停止。</translation>
    </message>
    <message>
        <source>on the local network</source>
        <translation>在局域网上</translation>
    </message>
    <message>
        <source>on this computer only</source>
        <translation>仅在本机</translation>
    </message>
    <message>
        <source>Running {0} at {1} — documentation at {1}/docs</source>
        <translation>正在{0}运行，地址 {1} — 文档见 {1}/docs</translation>
    </message>
    <message>
        <source>read-only</source>
        <translation>只读</translation>
    </message>
    <message>
        <source>read-write</source>
        <translation>读写</translation>
    </message>
    <message>
        <source>active</source>
        <translation>有效</translation>
    </message>
    <message>
        <source>revoked</source>
        <translation>已吊销</translation>
    </message>
    <message>
        <source>All</source>
        <translation>全部</translation>
    </message>
    <message>
        <source>Masked</source>
        <translation>已遮盖</translation>
    </message>
    <message>
        <source>Shown</source>
        <translation>未遮盖</translation>
    </message>
    <message>
        <source>Check the collections the key may use, or All collections.</source>
        <translation>请勾选该密钥可使用的文集，或选择“所有文集”。</translation>
    </message>
</context>
<context>
    <name>AuditDialog</name>
    <message>
        <source>API audit log</source>
        <translation>API 审计日志</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Key</source>
        <translation>密钥</translation>
    </message>
    <message>
        <source>Client</source>
        <translation>客户端</translation>
    </message>
    <message>
        <source>Request</source>
        <translation>请求</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态码</translation>
    </message>
    <message>
        <source>ms</source>
        <translation>毫秒</translation>
    </message>
    <message>
        <source>Documents</source>
        <translation>文档</translation>
    </message>
    <message>
        <source>Verify</source>
        <translation>校验</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>导出 CSV…</translation>
    </message>
    <message>
        <source>Intact: no entry was changed or deleted.</source>
        <translation>完好：没有任何条目被修改或删除。</translation>
    </message>
    <message>
        <source>Export the audit log</source>
        <translation>导出审计日志</translation>
    </message>
    <message>
        <source>Exported {0} entries.</source>
        <translation>已导出 {0} 条记录。</translation>
    </message>
</context>
<context>
    <name>BackupPanel</name>
    <message>
        <source>Backups</source>
        <translation>备份</translation>
    </message>
    <message>
        <source>Daily backup</source>
        <translation>每日备份</translation>
    </message>
    <message>
        <source>At</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Into folder</source>
        <translation>备份到文件夹</translation>
    </message>
    <message>
        <source>Keep</source>
        <translation>保留</translation>
    </message>
    <message>
        <source>On (the encrypted library is copied and verified)</source>
        <translation>开启（复制加密资料库并校验）</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <source>daily</source>
        <translation>份日备份</translation>
    </message>
    <message>
        <source>weekly</source>
        <translation>份周备份</translation>
    </message>
    <message>
        <source>monthly</source>
        <translation>份月备份</translation>
    </message>
    <message>
        <source>Back up now</source>
        <translation>立即备份</translation>
    </message>
    <message>
        <source>Recovery key…</source>
        <translation>恢复密钥…</translation>
    </message>
    <message>
        <source>Change passphrase…</source>
        <translation>更改口令…</translation>
    </message>
    <message>
        <source>Change key…</source>
        <translation>更换密钥…</translation>
    </message>
    <message>
        <source>Restore…</source>
        <translation>恢复…</translation>
    </message>
    <message>
        <source>The last backup failed: {0}</source>
        <translation>上次备份失败：{0}</translation>
    </message>
    <message>
        <source>No backup yet.</source>
        <translation>尚无备份。</translation>
    </message>
    <message>
        <source>Last backup {0}: verified, in {1}</source>
        <translation>上次备份 {0}：已校验，位于 {1}</translation>
    </message>
    <message>
        <source>Last backup {0} FAILED: {1}</source>
        <translation>上次备份 {0} 失败：{1}</translation>
    </message>
    <message>
        <source>Folder for backups</source>
        <translation>备份文件夹</translation>
    </message>
    <message>
        <source>Backup plan saved.</source>
        <translation>备份计划已保存。</translation>
    </message>
    <message>
        <source>Backing up…</source>
        <translation>正在备份…</translation>
    </message>
    <message>
        <source>The backup failed: {0}</source>
        <translation>备份失败：{0}</translation>
    </message>
    <message>
        <source>Recovery key</source>
        <translation>恢复密钥</translation>
    </message>
    <message>
        <source>Write this key down and keep it apart from the computer. It opens this library&apos;s backups on a replacement machine whose keyring does not hold the key:

{0}</source>
        <translation>请抄下此密钥并与计算机分开保管。在钥匙串中没有该密钥的替换计算机上，用它可以打开此资料库的备份：

{0}</translation>
    </message>
    <message>
        <source>The library&apos;s key was changed on {0}: the library and its index are re-encrypted, and backups from now on use the new key. Backups made before still need the old passphrase or the old recovery key: keep those with them.</source>
        <translation>资料库的密钥已于 {0} 更换：资料库及其索引已重新加密，此后的备份使用新密钥。此前的备份仍需要旧口令或旧恢复密钥：请将它们与这些备份一同保存。</translation>
    </message>
    <message>
        <source>Scripts that give the passphrase (ENCLAVE_PASSPHRASE, for a nightly `enclave backup` for instance) need the new one.</source>
        <translation>提供口令的脚本（ENCLAVE_PASSPHRASE，例如每晚运行的 `enclave backup`）需要改用新口令。</translation>
    </message>
    <message>
        <source>The index could not be rewritten now ({0}): it is rebuilt from the library when Enclave next starts.</source>
        <translation>索引暂时无法重写（{0}）：Enclave 下次启动时会根据资料库重建索引。</translation>
    </message>
    <message>
        <source>The backup to restore</source>
        <translation>要恢复的备份</translation>
    </message>
    <message>
        <source>Restore a backup</source>
        <translation>恢复备份</translation>
    </message>
    <message>
        <source>Replace the library with the backup {0}? The backup is verified first; the current library is kept aside, not deleted.</source>
        <translation>用备份 {0} 替换资料库？恢复前会先校验备份；当前资料库会被另行保留，不会删除。</translation>
    </message>
</context>
<context>
    <name>ChangeKeyDialog</name>
    <message>
        <source>Change the key</source>
        <translation>更换密钥</translation>
    </message>
    <message>
        <source>The library gets a new random key, kept in this computer&apos;s keyring; the current one is removed from it. The library and its index are re-encrypted under the new key, and backups from now on use it.

Backups made before keep the current key: keep the current recovery key with them, or make a fresh backup and retire them.</source>
        <translation>资料库将获得一个新的随机密钥，保存在本机的钥匙串中；当前密钥会从钥匙串中删除。资料库及其索引将用新密钥重新加密，此后的备份也使用新密钥。

此前的备份仍使用当前密钥：请将当前的恢复密钥与这些备份一同保存，或制作一份新备份并停用旧备份。</translation>
    </message>
    <message>
        <source>Change key</source>
        <translation>更换密钥</translation>
    </message>
    <message>
        <source>Change the passphrase</source>
        <translation>更改口令</translation>
    </message>
    <message>
        <source>The library and its index are re-encrypted under the new passphrase, and backups from now on use it.

Backups made before keep the current passphrase: keep it with them, or make a fresh backup and retire them.</source>
        <translation>资料库及其索引将用新口令重新加密，此后的备份也使用新口令。

此前的备份仍使用当前口令：请将它与这些备份一同保存，或制作一份新备份并停用旧备份。</translation>
    </message>
    <message>
        <source>Current passphrase</source>
        <translation>当前口令</translation>
    </message>
    <message>
        <source>New passphrase</source>
        <translation>新口令</translation>
    </message>
    <message>
        <source>New passphrase again</source>
        <translation>再次输入新口令</translation>
    </message>
    <message>
        <source>Change passphrase</source>
        <translation>更改口令</translation>
    </message>
    <message>
        <source>Enter the current passphrase.</source>
        <translation>请输入当前口令。</translation>
    </message>
    <message>
        <source>Re-encrypting the library…</source>
        <translation>正在重新加密资料库…</translation>
    </message>
</context>
<context>
    <name>ChatPanel</name>
    <message>
        <source>Ask in:</source>
        <translation>提问范围：</translation>
    </message>
    <message>
        <source>Ask a question about your documents (Enter to send, Shift+Enter for a new line)</source>
        <translation>就您的文档提问（Enter 发送，Shift+Enter 换行）</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop the answer (Esc)</source>
        <translation>停止回答 (Esc)</translation>
    </message>
    <message>
        <source>Ask anything about the documents in your library. Answers cite their sources: click a number to open the passage.</source>
        <translation>您可以就资料库中的文档提出任何问题。回答会注明出处：点击编号即可打开原文段落。</translation>
    </message>
    <message>
        <source>All documents</source>
        <translation>全部文档</translation>
    </message>
    <message>
        <source>Searching the documents…</source>
        <translation>正在检索文档…</translation>
    </message>
    <message>
        <source>Writing…</source>
        <translation>正在作答…</translation>
    </message>
    <message>
        <source>Stopped.</source>
        <translation>已停止。</translation>
    </message>
    <message>
        <source>The inference server did not answer, so the local model wrote this answer.</source>
        <translation>推理服务器没有响应，因此这个回答由本地模型写成。</translation>
    </message>
    <message>
        <source>The inference server stopped answering: the answer ends there.</source>
        <translation>推理服务器中途停止了响应：回答到此为止。</translation>
    </message>
    <message>
        <source>The inference server did not answer, so these are the passages that best answer the question.</source>
        <translation>推理服务器没有响应，因此这里列出最能回答该问题的段落。</translation>
    </message>
    <message>
        <source>The language model could not be loaded, so these are the passages that best answer the question. Check the model in Settings.</source>
        <translation>语言模型无法加载，因此这里列出的是最能回答该问题的段落。请在设置中检查模型。</translation>
    </message>
    <message>
        <source>No answer: see the message above.</source>
        <translation>没有回答：请查看上方的提示。</translation>
    </message>
</context>
<context>
    <name>ConversationList</name>
    <message>
        <source>Search conversations</source>
        <translation>搜索对话</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>Start a new conversation (Ctrl+N)</source>
        <translation>开始新对话 (Ctrl+N)</translation>
    </message>
    <message>
        <source>Rename</source>
        <translation>重命名</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Delete conversation</source>
        <translation>删除对话</translation>
    </message>
    <message>
        <source>Delete the conversation “{0}”? This cannot be undone.</source>
        <translation>删除对话“{0}”？此操作无法撤销。</translation>
    </message>
</context>
<context>
    <name>CostPanel</name>
    <message>
        <source>Rates</source>
        <translation>费率</translation>
    </message>
    <message>
        <source>Compare with</source>
        <translation>对比模型</translation>
    </message>
    <message>
        <source>Cloud model</source>
        <translation>云端模型</translation>
    </message>
    <message>
        <source>Input, {0}</source>
        <translation>输入（{0}）</translation>
    </message>
    <message>
        <source>Output, {0}</source>
        <translation>输出（{0}）</translation>
    </message>
    <message>
        <source>Per million tokens: public list prices, last updated {0}. Check them against the providers&apos; price pages; editing them dates them today.</source>
        <translation>每百万词元的价格：公开标价，最后更新于 {0}。请对照各服务商的价格页面核对；修改后日期改为今天。</translation>
    </message>
    <message>
        <source>Day</source>
        <translation>日期</translation>
    </message>
    <message>
        <source>Answers</source>
        <translation>回答数</translation>
    </message>
    <message>
        <source>CPU s</source>
        <translation>CPU 秒</translation>
    </message>
    <message>
        <source>Compute</source>
        <translation>计算</translation>
    </message>
    <message>
        <source>Storage</source>
        <translation>存储</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>合计</translation>
    </message>
    <message>
        <source>Per answer</source>
        <translation>每次回答</translation>
    </message>
    <message>
        <source>Collection</source>
        <translation>文集</translation>
    </message>
    <message>
        <source>Collections by cost (30 days)</source>
        <translation>按成本排列的文集（30 天）</translation>
    </message>
    <message>
        <source>Add model</source>
        <translation>添加模型</translation>
    </message>
    <message>
        <source>Remove model</source>
        <translation>删除模型</translation>
    </message>
    <message>
        <source>Apply</source>
        <translation>应用</translation>
    </message>
    <message>
        <source>Reset</source>
        <translation>重置</translation>
    </message>
    <message>
        <source>By day, since the library was made (30 days at most)</source>
        <translation>按天（自资料库创建之日起，最多 30 天）</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>导出 CSV…</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Currency</source>
        <translation>货币</translation>
    </message>
    <message>
        <source>Power draw at full load</source>
        <translation>满载功耗</translation>
    </message>
    <message>
        <source>Electricity ({0} per kWh)</source>
        <translation>电价（{0}/千瓦时）</translation>
    </message>
    <message>
        <source>Storage ({0} per GB-month)</source>
        <translation>存储（{0}/GB·月）</translation>
    </message>
    <message>
        <source>Daily budget ({0})</source>
        <translation>每日预算（{0}）</translation>
    </message>
    <message>
        <source>At {0}</source>
        <translation>按 {0} 计</translation>
    </message>
    <message>
        <source>All documents</source>
        <translation>全部文档</translation>
    </message>
    <message numerus="yes">
        <source>today, %n answer(s)</source>
        <translation>
            <numerusform>今天，%n 个回答</numerusform>
        </translation>
    </message>
    <message>
        <source>per answer</source>
        <translation>每个回答</translation>
    </message>
    <message>
        <source>the same tokens at {0}</source>
        <translation>同样词元按 {0} 计</translation>
    </message>
    <message>
        <source>Every price must be a number (per million tokens).</source>
        <translation>每个价格都必须是数字（每百万词元）。</translation>
    </message>
    <message>
        <source>&quot;{0}&quot; is not a currency code: use three capital letters, such as USD, EUR or CNY.</source>
        <translation>“{0}”不是货币代码：请使用三个大写字母，例如 USD、EUR 或 CNY。</translation>
    </message>
    <message>
        <source>Today&apos;s cost {0} is over the daily budget of {1}.</source>
        <translation>今日成本 {0} 已超出每日预算 {1}。</translation>
    </message>
    <message numerus="yes">
        <source>total of %n day(s)</source>
        <translation>
            <numerusform>%n 天合计</numerusform>
        </translation>
    </message>
    <message>
        <source>Saved.</source>
        <translation>已保存。</translation>
    </message>
    <message>
        <source>Export costs</source>
        <translation>导出成本</translation>
    </message>
</context>
<context>
    <name>DocumentsPanel</name>
    <message>
        <source>Add files…</source>
        <translation>添加文件…</translation>
    </message>
    <message>
        <source>Add documents (Ctrl+O)</source>
        <translation>添加文档 (Ctrl+O)</translation>
    </message>
    <message>
        <source>Add folder…</source>
        <translation>添加文件夹…</translation>
    </message>
    <message>
        <source>into collection:</source>
        <translation>加入文集：</translation>
    </message>
    <message>
        <source>Link a folder…</source>
        <translation>关联文件夹…</translation>
    </message>
    <message>
        <source>Keep this collection in step with a folder: new, changed and removed files are picked up while Enclave runs</source>
        <translation>让此文集与一个文件夹保持同步：Enclave 运行期间会自动处理新增、修改和删除的文件</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Library</source>
        <translation>资料库</translation>
    </message>
    <message>
        <source>Filter by name, collection or date</source>
        <translation>按名称、文集或日期筛选</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Collection</source>
        <translation>文集</translation>
    </message>
    <message>
        <source>Pages</source>
        <translation>页数</translation>
    </message>
    <message>
        <source>Chunks</source>
        <translation>片段数</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Added</source>
        <translation>添加时间</translation>
    </message>
    <message>
        <source>Re-index</source>
        <translation>重新索引</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Show in folder</source>
        <translation>在文件夹中显示</translation>
    </message>
    <message>
        <source>Files that could not be imported</source>
        <translation>无法导入的文件</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <source>Retry all</source>
        <translation>全部重试</translation>
    </message>
    <message>
        <source>Add documents</source>
        <translation>添加文档</translation>
    </message>
    <message>
        <source>Documents</source>
        <translation>文档</translation>
    </message>
    <message>
        <source>Add a folder</source>
        <translation>添加文件夹</translation>
    </message>
    <message>
        <source>Folder to keep in sync</source>
        <translation>要保持同步的文件夹</translation>
    </message>
    <message>
        <source>Delete documents</source>
        <translation>删除文档</translation>
    </message>
    <message>
        <source>Remove {0} document(s) from the library ({1})? The files on disk are not touched.</source>
        <translation>从资料库中移除 {0} 个文档（{1}）？磁盘上的文件不会被改动。</translation>
    </message>
</context>
<context>
    <name>EmptyLibrary</name>
    <message>
        <source>Your library is empty</source>
        <translation>您的资料库还是空的</translation>
    </message>
    <message>
        <source>Add documents to ask questions about them: PDF, Word (.docx), text, Markdown or HTML, and scans (PNG, JPEG, TIFF). They stay on this computer.</source>
        <translation>添加文档后即可就其内容提问：支持 PDF、Word (.docx)、文本、Markdown 和 HTML，以及扫描件（PNG、JPEG、TIFF）。文档只保存在本机。</translation>
    </message>
    <message>
        <source>Add documents…</source>
        <translation>添加文档…</translation>
    </message>
    <message>
        <source>Add documents (Ctrl+O)</source>
        <translation>添加文档 (Ctrl+O)</translation>
    </message>
    <message>
        <source>Or drop files or folders here</source>
        <translation>或将文件、文件夹拖放到这里</translation>
    </message>
    <message>
        <source>Importing {0} of {1} files…</source>
        <translation>正在导入第 {0} / {1} 个文件…</translation>
    </message>
    <message>
        <source>Importing…</source>
        <translation>正在导入…</translation>
    </message>
    <message>
        <source>You can ask as soon as the first document is in.</source>
        <translation>第一个文档导入完成后即可提问。</translation>
    </message>
</context>
<context>
    <name>EngineTexts</name>
    <message>
        <source>The question is empty.</source>
        <translation>问题是空的。</translation>
    </message>
    <message>
        <source>That conversation no longer exists.</source>
        <translation>该对话已不存在。</translation>
    </message>
    <message>
        <source>That document is no longer in the library.</source>
        <translation>该文档已不在资料库中。</translation>
    </message>
    <message>
        <source>There is no collection named &apos;{name}&apos;.</source>
        <translation>没有名为“{name}”的集合。</translation>
    </message>
    <message>
        <source>A collection named &apos;{name}&apos; already exists.</source>
        <translation>名为“{name}”的集合已存在。</translation>
    </message>
    <message>
        <source>A collection name must have 1 to 100 characters.</source>
        <translation>集合名称须为 1 到 100 个字符。</translation>
    </message>
    <message>
        <source>The passphrase must have at least {length} characters.</source>
        <translation>密码短语至少需要 {length} 个字符。</translation>
    </message>
    <message>
        <source>The text is too long for the model&apos;s context of {tokens} tokens: ask a shorter question, or send fewer or shorter messages.</source>
        <translation>文本超出了模型 {tokens} 个词元的上下文：请提出更短的问题，或发送更少、更短的消息。</translation>
    </message>
    <message>
        <source>The messages hold no question: the last message must have the role user.</source>
        <translation>消息中没有问题：最后一条消息的角色必须是 user。</translation>
    </message>
    <message>
        <source>The last message must be the user&apos;s question, not a message with the role {role}.</source>
        <translation>最后一条消息必须是用户的问题，而不是角色为 {role} 的消息。</translation>
    </message>
    <message>
        <source>System messages come first, before the conversation&apos;s questions and answers.</source>
        <translation>系统消息必须放在最前面，在对话的问题和回答之前。</translation>
    </message>
    <message>
        <source>Wrong passphrase or key: the vault could not be decrypted.</source>
        <translation>密码短语或密钥错误：无法解密资料库。</translation>
    </message>
    <message>
        <source>Wrong passphrase or key: the vault could not be decrypted (a change of its key was interrupted: the old or the new passphrase opens it).</source>
        <translation>密码短语或密钥错误：无法解密资料库（更换密钥的过程被中断：旧的或新的密码短语可以打开它）。</translation>
    </message>
    <message>
        <source>Wrong passphrase or recovery key for this backup.</source>
        <translation>此备份的密码短语或恢复密钥错误。</translation>
    </message>
    <message>
        <source>That is not the library&apos;s current passphrase: nothing was changed.</source>
        <translation>这不是资料库当前的密码短语：没有做任何更改。</translation>
    </message>
    <message>
        <source>The language model {name} could not be loaded ({reason}).</source>
        <translation>无法加载语言模型 {name}（{reason}）。</translation>
    </message>
    <message>
        <source>This library is closed: open it again to import.</source>
        <translation>此资料库已关闭：请重新打开后再导入。</translation>
    </message>
    <message>
        <source>no such file or folder</source>
        <translation>没有这个文件或文件夹</translation>
    </message>
    <message>
        <source>unsupported file type &apos;{suffix}&apos;</source>
        <translation>不支持的文件类型“{suffix}”</translation>
    </message>
    <message>
        <source>cannot be read ({detail})</source>
        <translation>无法读取（{detail}）</translation>
    </message>
    <message>
        <source>its name is not valid UTF-8: rename the file</source>
        <translation>文件名不是有效的 UTF-8：请重命名该文件</translation>
    </message>
    <message>
        <source>not a regular file</source>
        <translation>不是普通文件</translation>
    </message>
    <message>
        <source>cannot read the file ({detail})</source>
        <translation>无法读取该文件（{detail}）</translation>
    </message>
    <message>
        <source>internal error: {detail}</source>
        <translation>内部错误：{detail}</translation>
    </message>
    <message>
        <source>empty file</source>
        <translation>空文件</translation>
    </message>
    <message>
        <source>file is {size_mib} MiB, over the {limit_mib} MiB limit</source>
        <translation>文件大小为 {size_mib} MiB，超过了 {limit_mib} MiB 的上限</translation>
    </message>
    <message>
        <source>no text in the file</source>
        <translation>文件中没有文字</translation>
    </message>
    <message>
        <source>no text could be extracted: a scanned PDF needs OCR, which is switched off (Settings, or ENCLAVE_OCR=true)</source>
        <translation>未能提取到文字：扫描版 PDF 需要 OCR，而 OCR 已关闭（在“设置”中开启，或设置 ENCLAVE_OCR=true）</translation>
    </message>
    <message>
        <source>an image&apos;s text can only be read with OCR, which is switched off (Settings, or ENCLAVE_OCR=true)</source>
        <translation>图片中的文字只能用 OCR 读取，而 OCR 已关闭（在“设置”中开启，或设置 ENCLAVE_OCR=true）</translation>
    </message>
    <message>
        <source>no text could be extracted: OCR found no legible text in the image</source>
        <translation>未能提取到文字：OCR 在图片中没有找到可辨认的文字</translation>
    </message>
    <message>
        <source>no text could be extracted: OCR found no legible text on its 1 scanned page</source>
        <translation>未能提取到文字：OCR 在其 1 页扫描页上没有找到可辨认的文字</translation>
    </message>
    <message>
        <source>no text could be extracted: OCR found no legible text on its {pages} scanned pages</source>
        <translation>未能提取到文字：OCR 在其 {pages} 页扫描页上没有找到可辨认的文字</translation>
    </message>
    <message>
        <source>no text could be extracted: the image is blank</source>
        <translation>未能提取到文字：图片是空白的</translation>
    </message>
    <message>
        <source>no text could be extracted: its pages are blank</source>
        <translation>未能提取到文字：页面是空白的</translation>
    </message>
    <message>
        <source>its structure is nested too deeply to read</source>
        <translation>文件结构嵌套过深，无法读取</translation>
    </message>
    <message>
        <source>the document is password-protected (or a legacy .doc)</source>
        <translation>该文档受密码保护（或是旧式 .doc 文件）</translation>
    </message>
    <message>
        <source>the PDF is password-protected</source>
        <translation>该 PDF 受密码保护</translation>
    </message>
    <message>
        <source>not a readable Word document ({detail})</source>
        <translation>不是可读取的 Word 文档（{detail}）</translation>
    </message>
    <message>
        <source>not a readable PDF (damaged, or not a PDF)</source>
        <translation>不是可读取的 PDF（已损坏，或并非 PDF）</translation>
    </message>
    <message>
        <source>not a readable image (damaged, or not an image)</source>
        <translation>不是可读取的图片（已损坏，或并非图片）</translation>
    </message>
    <message>
        <source>damaged PDF ({detail})</source>
        <translation>PDF 已损坏（{detail}）</translation>
    </message>
    <message>
        <source>damaged image ({detail})</source>
        <translation>图片已损坏（{detail}）</translation>
    </message>
    <message>
        <source>page {page} cannot be read with OCR ({detail})</source>
        <translation>第 {page} 页无法用 OCR 读取（{detail}）</translation>
    </message>
    <message>
        <source>OCR cannot run: its language data (Tesseract&apos;s eng and chi_sim) is missing from this installation</source>
        <translation>OCR 无法运行：此安装中缺少其语言数据（Tesseract 的 eng 和 chi_sim）</translation>
    </message>
    <message>
        <source>binary data in a text file</source>
        <translation>文本文件中含有二进制数据</translation>
    </message>
    <message>
        <source>it holds more than {limit} paragraphs: split the file</source>
        <translation>文件含有超过 {limit} 个段落：请拆分文件</translation>
    </message>
    <message>
        <source>it holds {parts} parts, over the {limit} a Word file may have</source>
        <translation>文件含有 {parts} 个部件，超过了 Word 文件允许的 {limit} 个</translation>
    </message>
    <message>
        <source>it unpacks to {size_mib} MiB, over the {limit_mib} MiB limit (a zip bomb, or split it)</source>
        <translation>解压后为 {size_mib} MiB，超过了 {limit_mib} MiB 的上限（可能是压缩炸弹，否则请拆分文件）</translation>
    </message>
    <message>
        <source>it holds {paragraphs} paragraphs, over the {limit} a file may have: split the file</source>
        <translation>文件含有 {paragraphs} 个段落，超过了单个文件允许的 {limit} 个：请拆分文件</translation>
    </message>
    <message>
        <source>it holds more than {limit} HTML elements: split the file</source>
        <translation>文件含有超过 {limit} 个 HTML 元素：请拆分文件</translation>
    </message>
    <message>
        <source>{pages} of its pages are pictures, over the {limit} OCR may read in one file: split it</source>
        <translation>其中 {pages} 页是图片，超过了 OCR 在单个文件中可读取的 {limit} 页：请拆分文件</translation>
    </message>
    <message>
        <source>it makes {passages} passages, over the {limit} a file may: split the file</source>
        <translation>文件会生成 {passages} 个段落块，超过了单个文件允许的 {limit} 个：请拆分文件</translation>
    </message>
    <message>
        <source>reading it took longer than {seconds} s: split the file</source>
        <translation>读取用时超过 {seconds} 秒：请拆分文件</translation>
    </message>
    <message>
        <source>reading it took longer than {seconds} s for one page: split the file</source>
        <translation>读取单页用时超过 {seconds} 秒：请拆分文件</translation>
    </message>
    <message>
        <source>reading it needs more than {memory_mib} MiB of memory: split the file</source>
        <translation>读取需要超过 {memory_mib} MiB 的内存：请拆分文件</translation>
    </message>
    <message>
        <source>reading it crashed the reader (exit code {exit_code}): the file is damaged or built to harm</source>
        <translation>读取时读取进程崩溃（退出码 {exit_code}）：文件已损坏或被蓄意构造用于破坏</translation>
    </message>
    <message>
        <source>The disk is full: free some space, then try again ({detail}).</source>
        <translation>磁盘已满：请释放一些空间后重试（{detail}）。</translation>
    </message>
    <message>
        <source>No backup folder is set: give one, or choose the backup plan&apos;s folder (Settings → Backups).</source>
        <translation>尚未设置备份文件夹：请指定一个，或选择备份计划的文件夹（设置 → 备份）。</translation>
    </message>
    <message>
        <source>The backup folder {folder} is not there (is the drive connected?).</source>
        <translation>备份文件夹 {folder} 不存在（驱动器是否已连接？）。</translation>
    </message>
    <message>
        <source>&apos;{at}&apos; is not a time of day (HH:MM, 00:00 to 23:59).</source>
        <translation>“{at}”不是有效的时间（HH:MM，00:00 到 23:59）。</translation>
    </message>
    <message>
        <source>Choose a folder for the backups.</source>
        <translation>请为备份选择一个文件夹。</translation>
    </message>
    <message>
        <source>The backup folder {folder} does not exist (is the drive connected?).</source>
        <translation>备份文件夹 {folder} 不存在（驱动器是否已连接？）。</translation>
    </message>
    <message>
        <source>Keep 1-366 daily, 0-520 weekly and 0-1200 monthly backups.</source>
        <translation>每日备份保留 1-366 份，每周备份保留 0-520 份，每月备份保留 0-1200 份。</translation>
    </message>
    <message>
        <source>{folder} is not an Enclave backup (no {manifest}).</source>
        <translation>{folder} 不是 Enclave 备份（没有 {manifest}）。</translation>
    </message>
    <message>
        <source>The manifest of {folder} is damaged: {detail}</source>
        <translation>{folder} 的清单已损坏：{detail}</translation>
    </message>
    <message>
        <source>The backup {backup} lacks {name}.</source>
        <translation>备份 {backup} 缺少 {name}。</translation>
    </message>
    <message>
        <source>{name} in the backup {backup} is damaged (its checksum does not match the manifest).</source>
        <translation>备份 {backup} 中的 {name} 已损坏（其校验和与清单不符）。</translation>
    </message>
    <message>
        <source>The backup&apos;s vault fails its integrity check: {detail}</source>
        <translation>备份中的资料库未通过完整性检查：{detail}</translation>
    </message>
    <message>
        <source>The backup&apos;s counts {counts} differ from its manifest {expected}.</source>
        <translation>备份中的数量 {counts} 与其清单 {expected} 不符。</translation>
    </message>
    <message>
        <source>A recovery key is 64 hexadecimal characters (dashes allowed).</source>
        <translation>恢复密钥由 64 个十六进制字符组成（可以带连字符）。</translation>
    </message>
    <message>
        <source>This backup&apos;s key was kept in a keyring: restoring it needs the recovery key shown when the library was created.</source>
        <translation>此备份的密钥保存在钥匙串中：恢复它需要创建资料库时显示的恢复密钥。</translation>
    </message>
    <message>
        <source>This backup needs the passphrase of its library.</source>
        <translation>此备份需要其资料库的口令。</translation>
    </message>
    <message>
        <source>This backup&apos;s key was kept in a keyring, and this machine has none now: restore it with `enclave restore --recovery-key`.</source>
        <translation>此备份的密钥保存在钥匙串中，而这台计算机现在没有钥匙串：请用 `enclave restore --recovery-key` 恢复它。</translation>
    </message>
    <message>
        <source>This backup&apos;s key was kept in a keyring: give its recovery key.</source>
        <translation>此备份的密钥保存在钥匙串中：请提供它的恢复密钥。</translation>
    </message>
    <message>
        <source>This machine has no keyring: choose a passphrase to lock the restored library with.</source>
        <translation>这台计算机没有钥匙串：请选择一个口令来锁定恢复后的资料库。</translation>
    </message>
    <message>
        <source>This backup was made before the key was changed on {when}: give the passphrase or recovery key of that time.</source>
        <translation>此备份是在 {when} 更换密钥之前创建的：请提供当时的口令或恢复密钥。</translation>
    </message>
    <message>
        <source>This backup was made under another key than the library&apos;s (a change of key this library does not record, or another library): give the passphrase or recovery key it was made with.</source>
        <translation>此备份所用的密钥与资料库的不同（可能是本资料库未记录的一次密钥更换，或来自另一个资料库）：请提供创建它时所用的口令或恢复密钥。</translation>
    </message>
</context>
<context>
    <name>HealthPanel</name>
    <message>
        <source>Show the last</source>
        <translation>显示最近</translation>
    </message>
    <message>
        <source>15 minutes</source>
        <translation>15 分钟</translation>
    </message>
    <message>
        <source>hour</source>
        <translation>1 小时</translation>
    </message>
    <message>
        <source>day</source>
        <translation>1 天</translation>
    </message>
    <message>
        <source>week</source>
        <translation>1 周</translation>
    </message>
    <message>
        <source>Alerts</source>
        <translation>告警</translation>
    </message>
    <message>
        <source>None: every figure is within its limits.</source>
        <translation>无：各项指标都在限度之内。</translation>
    </message>
    <message>
        <source>Since</source>
        <translation>开始时间</translation>
    </message>
    <message>
        <source>Alert</source>
        <translation>告警</translation>
    </message>
    <message>
        <source>What to do</source>
        <translation>处理办法</translation>
    </message>
    <message>
        <source>answers (desktop and API)</source>
        <translation>回答（桌面和 API）</translation>
    </message>
    <message>
        <source>API requests</source>
        <translation>API 请求</translation>
    </message>
    <message>
        <source>answers waiting</source>
        <translation>等待中的回答</translation>
    </message>
    <message>
        <source>answer p50</source>
        <translation>回答 p50</translation>
    </message>
    <message>
        <source>answer p95</source>
        <translation>回答 p95</translation>
    </message>
    <message>
        <source>answer p99</source>
        <translation>回答 p99</translation>
    </message>
    <message>
        <source>first sentence p95</source>
        <translation>首句 p95</translation>
    </message>
    <message>
        <source>search p95</source>
        <translation>检索 p95</translation>
    </message>
    <message>
        <source>API errors</source>
        <translation>API 错误</translation>
    </message>
    <message>
        <source>answer cache hits</source>
        <translation>回答缓存命中</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>memory</source>
        <translation>内存</translation>
    </message>
    <message>
        <source>tokens/s</source>
        <translation>词元/秒</translation>
    </message>
    <message>
        <source>No data yet</source>
        <translation>暂无数据</translation>
    </message>
    <message>
        <source>Answers and API requests per minute</source>
        <translation>每分钟回答数和 API 请求数</translation>
    </message>
    <message>
        <source>Time to answer, seconds</source>
        <translation>回答用时（秒）</translation>
    </message>
    <message>
        <source>API errors and answer-cache hits, %</source>
        <translation>API 错误率和回答缓存命中率（%）</translation>
    </message>
    <message>
        <source>CPU, % of the whole machine</source>
        <translation>CPU（占整机的 %）</translation>
    </message>
    <message>
        <source>Memory, MB</source>
        <translation>内存（MB）</translation>
    </message>
    <message>
        <source>Model writing speed, tokens/s</source>
        <translation>模型生成速度（词元/秒）</translation>
    </message>
    <message numerus="yes">
        <source>document(s)</source>
        <translation>
            <numerusform>个文档</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>chunk(s)</source>
        <translation>
            <numerusform>个片段</numerusform>
        </translation>
    </message>
    <message>
        <source>vector index</source>
        <translation>向量索引</translation>
    </message>
    <message>
        <source>encrypted library</source>
        <translation>加密资料库</translation>
    </message>
    <message numerus="yes">
        <source>answer(s) today</source>
        <translation>
            <numerusform>个回答（今天）</numerusform>
        </translation>
    </message>
    <message>
        <source>tokens/s, the model&apos;s last answer</source>
        <translation>词元/秒（模型最近一次回答）</translation>
    </message>
    <message>
        <source>updated {0}</source>
        <translation>更新于 {0}</translation>
    </message>
    <message>
        <source>{0:.0%} of API requests failed in each of the last 2 minutes (over 5%).</source>
        <translation>最近 2 分钟内每分钟都有 {0:.0%} 的 API 请求失败（超过 5%）。</translation>
    </message>
    <message>
        <source>Answers are slow: p95 {0:.1f} s for 5 minutes (over 2 s).</source>
        <translation>回答变慢：5 分钟内 p95 为 {0:.1f} 秒（超过 2 秒）。</translation>
    </message>
    <message>
        <source>Answer cache hit rate {0:.0%} for 10 minutes (under 60%).</source>
        <translation>10 分钟内回答缓存命中率为 {0:.0%}（低于 60%）。</translation>
    </message>
    <message>
        <source>The last backup failed: {1}</source>
        <translation>上次备份失败：{1}</translation>
    </message>
    <message>
        <source>The scheduled backup did not happen.</source>
        <translation>计划的备份没有进行。</translation>
    </message>
    <message>
        <source>Only {0:.1f} GiB free where the library lives (under 2 GiB).</source>
        <translation>资料库所在磁盘只剩 {0:.1f} GiB 可用空间（低于 2 GiB）。</translation>
    </message>
    <message>
        <source>Read enclave.log and the API audit log (Settings → LAN API) for the failing requests.</source>
        <translation>查看 enclave.log 和 API 审计日志（设置 → 局域网 API）中失败的请求。</translation>
    </message>
    <message>
        <source>Fewer clients at once, or a faster answer model or inference server (Settings → Models).</source>
        <translation>减少同时使用的客户端，或换用更快的回答模型或推理服务器（设置 → 模型）。</translation>
    </message>
    <message>
        <source>Normal when questions rarely repeat. Each import empties the cache: import in batches, outside busy hours.</source>
        <translation>问题很少重复时属正常。每次导入都会清空缓存：请在空闲时段分批导入。</translation>
    </message>
    <message>
        <source>Check that the backup folder is reachable, then Back up now (Settings → Backups).</source>
        <translation>确认备份文件夹可以访问，然后点“立即备份”（设置 → 备份）。</translation>
    </message>
    <message>
        <source>Back up now (Settings → Backups), and leave Enclave running at the backup time.</source>
        <translation>点“立即备份”（设置 → 备份），并让 Enclave 在备份时间保持运行。</translation>
    </message>
    <message>
        <source>Free space on that disk, or move the data directory (Settings → Advanced) and restore a backup there.</source>
        <translation>清理该磁盘的空间，或更换数据目录（设置 → 高级）并在那里恢复备份。</translation>
    </message>
    <message>
        <source>Answers by {0}, on this computer</source>
        <translation>由本机上的 {0} 回答</translation>
    </message>
    <message>
        <source>Answers by {0} on {1} (the local {2} when it does not answer)</source>
        <translation>由 {1} 上的 {0} 回答（它不响应时由本地的 {2} 回答）</translation>
    </message>
    <message>
        <source>Answers by {0} on {1} (quotations when it does not answer)</source>
        <translation>由 {1} 上的 {0} 回答（它不响应时改为引用原文）</translation>
    </message>
    <message>
        <source>Waiting for the first figures…</source>
        <translation>正在等待首批数据…</translation>
    </message>
    <message>
        <source>its first model</source>
        <translation>其第一个模型</translation>
    </message>
</context>
<context>
    <name>ImportView</name>
    <message>
        <source>Import</source>
        <translation>导入</translation>
    </message>
    <message>
        <source>Drop files or folders anywhere on the window: PDF, Word (.docx), text, Markdown, HTML, and scans as PNG, JPEG or TIFF.</source>
        <translation>将文件或文件夹拖放到窗口任意位置：PDF、Word (.docx)、文本、Markdown、HTML，以及 PNG、JPEG 或 TIFF 格式的扫描件。</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>进度</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Skip file</source>
        <translation>跳过文件</translation>
    </message>
    <message>
        <source>Take the selected file out of the import queue; the other files go on.</source>
        <translation>将所选文件移出导入队列；其他文件继续导入。</translation>
    </message>
    <message>
        <source>Clear list</source>
        <translation>清空列表</translation>
    </message>
    <message>
        <source>Queued</source>
        <translation>排队中</translation>
    </message>
    <message>
        <source>Reading</source>
        <translation>读取中</translation>
    </message>
    <message>
        <source>Reading with OCR</source>
        <translation>正在进行 OCR 识别</translation>
    </message>
    <message>
        <source>Embedding</source>
        <translation>向量化中</translation>
    </message>
    <message>
        <source>Saving</source>
        <translation>保存中</translation>
    </message>
    <message>
        <source>Indexed</source>
        <translation>已索引</translation>
    </message>
    <message>
        <source>Unchanged, skipped</source>
        <translation>未更改，已跳过</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>page {0} of {1}</source>
        <translation>第 {0} 页，共 {1} 页</translation>
    </message>
    <message>
        <source>Idle</source>
        <translation>空闲</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>{0} of {1} files</source>
        <translation>第 {0} / {1} 个文件</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>正在开始…</translation>
    </message>
    <message numerus="yes">
        <source>about %n min left</source>
        <translation>
            <numerusform>大约还剩 %n 分钟</numerusform>
        </translation>
    </message>
    <message>
        <source>less than a minute left</source>
        <translation>不到一分钟</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
</context>
<context>
    <name>InferenceServerFields</name>
    <message>
        <source>Inference server</source>
        <translation>推理服务器</translation>
    </message>
    <message>
        <source>Server&apos;s model</source>
        <translation>服务器的模型</translation>
    </message>
    <message>
        <source>Server&apos;s API key</source>
        <translation>服务器的 API 密钥</translation>
    </message>
    <message>
        <source>Server timeout (s)</source>
        <translation>服务器超时（秒）</translation>
    </message>
    <message>
        <source>Check</source>
        <translation>检查</translation>
    </message>
    <message>
        <source>The first model the server lists</source>
        <translation>服务器列出的第一个模型</translation>
    </message>
    <message>
        <source>When the server does not answer, the local model answers (otherwise answers quote the documents)</source>
        <translation>服务器不响应时由本地模型回答（否则回答将引用文档原文）</translation>
    </message>
    <message>
        <source>An OpenAI-compatible server on your network (vLLM, llama.cpp, Ollama, TGI) writes the answers instead of the local model: a bigger model, checked against your documents all the same. Leave the address empty to use the local model.</source>
        <translation>由您网络中兼容 OpenAI 的服务器（vLLM、llama.cpp、Ollama、TGI）代替本地模型撰写回答：可以使用更大的模型，回答同样会根据您的文档进行核对。地址留空则使用本地模型。</translation>
    </message>
    <message>
        <source>Type the server&apos;s address first.</source>
        <translation>请先输入服务器地址。</translation>
    </message>
    <message>
        <source>Asking the server…</source>
        <translation>正在询问服务器…</translation>
    </message>
    <message>
        <source>The server answers; it serves: {0}.</source>
        <translation>服务器已响应，提供的模型：{0}。</translation>
    </message>
    <message>
        <source>Kept in the library: type a new one to replace it</source>
        <translation>已保存在资料库中：输入新的密钥即可替换</translation>
    </message>
    <message>
        <source>None</source>
        <translation>无</translation>
    </message>
    <message>
        <source>Open the library to set the key</source>
        <translation>打开资料库后才能设置密钥</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Enclave — private document assistant</source>
        <translation>Enclave — 私有文档助手</translation>
    </message>
    <message>
        <source>About Enclave</source>
        <translation>关于 Enclave</translation>
    </message>
    <message>
        <source>Chat</source>
        <translation>聊天</translation>
    </message>
    <message>
        <source>Documents</source>
        <translation>文档</translation>
    </message>
    <message>
        <source>Health</source>
        <translation>运行状态</translation>
    </message>
    <message>
        <source>Cost</source>
        <translation>成本</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Opening the library…</source>
        <translation>正在打开资料库…</translation>
    </message>
    <message>
        <source>The library is locked.</source>
        <translation>资料库已锁定。</translation>
    </message>
    <message>
        <source>Library open · loading the models in the background…</source>
        <translation>资料库已打开 · 正在后台加载模型…</translation>
    </message>
    <message>
        <source>Ready · everything stays on this computer</source>
        <translation>就绪 · 所有数据都留在本机</translation>
    </message>
    <message>
        <source>The library is not open.</source>
        <translation>资料库未打开。</translation>
    </message>
    <message>
        <source>The settings file could not be read, defaults are used: {0}</source>
        <translation>无法读取设置文件，已使用默认设置：{0}</translation>
    </message>
    <message>
        <source>Wrong passphrase: the library could not be unlocked. Try again.</source>
        <translation>口令错误：无法解锁资料库。请重试。</translation>
    </message>
    <message>
        <source>The library is in use</source>
        <translation>文档库正在被使用</translation>
    </message>
    <message>
        <source>Another program is changing this library, and only one program at a time may: Enclave cannot open it now.</source>
        <translation>另一个程序正在修改此文档库，而同一时间只能有一个程序修改：Enclave 现在无法打开它。</translation>
    </message>
    <message>
        <source>Try again</source>
        <translation>重试</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>The inference server did not answer. ({0})</source>
        <translation>推理服务器没有响应。（{0}）</translation>
    </message>
    <message>
        <source>The language model could not be loaded, so answers are the passages of your documents that best answer each question. Check the model in Settings. ({0})</source>
        <translation>语言模型无法加载，因此回答是您文档中最能回答各个问题的段落。请在设置中检查模型。（{0}）</translation>
    </message>
    <message>
        <source>Something went wrong ({0}: {1}). The details are in the log file.</source>
        <translation>出现错误（{0}：{1}）。详细信息已写入日志文件。</translation>
    </message>
    <message>
        <source>Importing {0}/{1}</source>
        <translation>正在导入 {0}/{1}</translation>
    </message>
    <message>
        <source>Importing…</source>
        <translation>正在导入…</translation>
    </message>
    <message>
        <source>The backup was restored.</source>
        <translation>备份已恢复。</translation>
    </message>
    <message>
        <source>The previous library is kept in {0}.</source>
        <translation>原资料库保留在 {0}。</translation>
    </message>
    <message>
        <source>The library is under the key of that time again (a passphrase library opens with the passphrase of that time): change the key in Settings → Backups if that one is no longer safe.</source>
        <translation>资料库重新使用当时的密钥（使用口令的资料库需用当时的口令打开）：如果该密钥已不再安全，请在“设置 → 备份”中更换密钥。</translation>
    </message>
</context>
<context>
    <name>MessageView</name>
    <message>
        <source>You</source>
        <translation>您</translation>
    </message>
    <message>
        <source>Enclave</source>
        <translation>Enclave</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Regenerate</source>
        <translation>重新生成</translation>
    </message>
    <message>
        <source>Quoted from your documents</source>
        <translation>摘自您的文档</translation>
    </message>
    <message>
        <source>Enclave could not answer this in its own words with confidence, so these are the passages&apos; own words, copied from your documents. Click a number to open one.</source>
        <translation>Enclave 无法有把握地用自己的话回答这个问题，因此这里给出的是从您的文档中原样摘录的段落原文。点击编号可打开对应段落。</translation>
    </message>
    <message>
        <source>Not a generated answer: the passages&apos; own words.</source>
        <translation>这不是生成的回答，而是段落原文。</translation>
    </message>
    <message>
        <source>Searched for: {query}</source>
        <translation>检索内容：{query}</translation>
    </message>
    <message>
        <source>The question depends on the conversation before it, so it was searched and answered as this question, which stands on its own.</source>
        <translation>这个问题依赖于之前的对话，因此按这个可以独立理解的问题进行检索和回答。</translation>
    </message>
    <message>
        <source>I could not find an answer to this in your documents. Try other words, or add the documents that cover it.</source>
        <translation>在您的文档中找不到这个问题的答案。请换个说法，或添加涵盖该内容的文档。</translation>
    </message>
</context>
<context>
    <name>NewPassphraseFields</name>
    <message>
        <source>Passphrase</source>
        <translation>口令</translation>
    </message>
    <message>
        <source>Passphrase again</source>
        <translation>再次输入口令</translation>
    </message>
    <message>
        <source>At least {0} characters. Write it down somewhere safe: without it the library cannot be opened, by anyone.</source>
        <translation>至少 {0} 个字符。请妥善记录：没有口令，任何人都无法打开资料库。</translation>
    </message>
    <message>
        <source>The passphrase must have at least {0} characters.</source>
        <translation>口令至少需要 {0} 个字符。</translation>
    </message>
    <message>
        <source>The two passphrases differ.</source>
        <translation>两次输入的口令不一致。</translation>
    </message>
</context>
<context>
    <name>OlderKeyDialog</name>
    <message>
        <source>Restore a backup</source>
        <translation>恢复备份</translation>
    </message>
    <message>
        <source>The passphrase or the recovery key of that time:</source>
        <translation>当时的口令或恢复密钥：</translation>
    </message>
    <message>
        <source>Verify and restore</source>
        <translation>校验并恢复</translation>
    </message>
    <message>
        <source>Enter the passphrase or the recovery key.</source>
        <translation>请输入口令或恢复密钥。</translation>
    </message>
    <message>
        <source>Verifying the backup…</source>
        <translation>正在校验备份…</translation>
    </message>
</context>
<context>
    <name>PassphraseDialog</name>
    <message>
        <source>Unlock Enclave</source>
        <translation>解锁 Enclave</translation>
    </message>
    <message>
        <source>Enter the passphrase of the library in {0}.</source>
        <translation>请输入位于 {0} 的资料库的口令。</translation>
    </message>
    <message>
        <source>Unlock</source>
        <translation>解锁</translation>
    </message>
    <message>
        <source>Enter the passphrase.</source>
        <translation>请输入口令。</translation>
    </message>
    <message>
        <source>Unlocking…</source>
        <translation>正在解锁…</translation>
    </message>
</context>
<context>
    <name>SettingsPanel</name>
    <message>
        <source>Appearance</source>
        <translation>外观</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>Theme</source>
        <translation>主题</translation>
    </message>
    <message>
        <source>Same as the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <source>Answer model</source>
        <translation>回答模型</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Context size (tokens)</source>
        <translation>上下文长度（词元）</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>温度</translation>
    </message>
    <message>
        <source>Longest answer (tokens)</source>
        <translation>最长回答（词元）</translation>
    </message>
    <message>
        <source>Threads (0 = all cores)</source>
        <translation>线程数（0 = 全部核心）</translation>
    </message>
    <message>
        <source>Add GGUF file…</source>
        <translation>添加 GGUF 文件…</translation>
    </message>
    <message>
        <source>Copy a bigger instruction-tuned model in GGUF format (for example 1B to 8B parameters, from a USB stick) into the library, for better answers</source>
        <translation>将更大的 GGUF 格式指令模型（例如 10 亿到 80 亿参数，可来自 U 盘）复制到资料库中，以获得更好的回答</translation>
    </message>
    <message>
        <source>Embedding model</source>
        <translation>向量模型</translation>
    </message>
    <message>
        <source>Choose folder…</source>
        <translation>选择文件夹…</translation>
    </message>
    <message>
        <source>Changing the embedding model embeds the whole library again when you apply; search keeps using the old model until that is done.</source>
        <translation>更换向量模型后，点击应用会重新处理整个资料库；完成之前检索仍使用旧模型。</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Data directory</source>
        <translation>数据目录</translation>
    </message>
    <message>
        <source>Scanned documents</source>
        <translation>扫描文档</translation>
    </message>
    <message>
        <source>Read scanned pages and images (PNG, JPEG, TIFF) with OCR as they are imported: a few seconds a page</source>
        <translation>导入时用 OCR 识别扫描页和图片（PNG、JPEG、TIFF）中的文字：每页需数秒</translation>
    </message>
    <message>
        <source>Privacy</source>
        <translation>隐私</translation>
    </message>
    <message>
        <source>Mask personal data in documents as they are imported</source>
        <translation>导入文档时遮蔽其中的个人信息</translation>
    </message>
    <message>
        <source>E-mail addresses, phone numbers, card numbers and ID numbers are replaced by [email], [phone], [card number] and [ID number] before they are stored: the library never holds them, and answers cannot repeat them. Documents already in the library keep their text until they are re-indexed (Documents tab).</source>
        <translation>电子邮件地址、电话号码、银行卡号和身份证号在存储之前被替换为 [email]、[phone]、[card number] 和 [ID number]：资料库中从不保存它们，回答也无法复述它们。已在资料库中的文档保留原文，直到重新索引（“文档”标签页）。</translation>
    </message>
    <message>
        <source>Reset</source>
        <translation>重置</translation>
    </message>
    <message>
        <source>Drop the changes not applied yet</source>
        <translation>放弃尚未应用的更改</translation>
    </message>
    <message>
        <source>General</source>
        <translation>常规</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>LAN API</source>
        <translation>局域网 API</translation>
    </message>
    <message>
        <source>Backups</source>
        <translation>备份</translation>
    </message>
    <message>
        <source>Advanced</source>
        <translation>高级</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <source>Where the encrypted library lives. A change takes effect when Enclave starts again; the current library stays where it is.</source>
        <translation>加密资料库的存放位置。更改将在 Enclave 下次启动时生效；当前资料库保持原位。</translation>
    </message>
    <message>
        <source>Apply</source>
        <translation>应用</translation>
    </message>
    <message>
        <source>{0} (bundled)</source>
        <translation>{0}（内置）</translation>
    </message>
    <message>
        <source>Every answer is checked against your documents; one that cannot be supported is replaced by a quotation of the passages.</source>
        <translation>每个回答都会与您的文档核对；无法得到文档支持的回答会被替换为段落原文引用。</translation>
    </message>
    <message>
        <source>The bundled models are tiny (135M and 270M parameters). They are good at pointing to the right passage and at short factual answers; they are weak at reasoning, long answers and Chinese.</source>
        <translation>内置模型很小（1.35 亿和 2.7 亿参数）。它们擅长找到正确的段落、给出简短的事实性回答；不擅长推理、长篇回答和中文。</translation>
    </message>
    <message>
        <source>For better answers, add a bigger GGUF model.</source>
        <translation>如需更好的回答，请添加更大的 GGUF 模型。</translation>
    </message>
    <message>
        <source>Choose a data directory.</source>
        <translation>请选择数据目录。</translation>
    </message>
    <message>
        <source>Saved.</source>
        <translation>已保存。</translation>
    </message>
    <message>
        <source>The new data directory is used from the next start.</source>
        <translation>新的数据目录将在下次启动时使用。</translation>
    </message>
    <message>
        <source>Add a GGUF model</source>
        <translation>添加 GGUF 模型</translation>
    </message>
    <message>
        <source>GGUF models</source>
        <translation>GGUF 模型</translation>
    </message>
    <message>
        <source>{0} was copied into the library&apos;s models folder. Apply to use it.</source>
        <translation>{0} 已复制到资料库的模型文件夹。点击应用即可使用。</translation>
    </message>
    <message>
        <source>A sentence-transformers model folder</source>
        <translation>sentence-transformers 模型文件夹</translation>
    </message>
    <message>
        <source>Change the embedding model</source>
        <translation>更换向量模型</translation>
    </message>
    <message>
        <source>Embed the whole library again with {0}? This can take a while; you can keep working meanwhile.</source>
        <translation>使用 {0} 重新处理整个资料库？这可能需要一段时间，期间您可以继续工作。</translation>
    </message>
    <message>
        <source>The library now uses {0}.</source>
        <translation>资料库现在使用 {0}。</translation>
    </message>
    <message>
        <source>Cancelled: the library still uses the old model.</source>
        <translation>已取消：资料库仍使用原来的模型。</translation>
    </message>
    <message>
        <source>Where should the library live?</source>
        <translation>资料库存放在哪里？</translation>
    </message>
</context>
<context>
    <name>SetupDialog</name>
    <message>
        <source>Welcome to Enclave</source>
        <translation>欢迎使用 Enclave</translation>
    </message>
    <message>
        <source>Enclave keeps your documents in an encrypted library on this computer and answers questions about them. Nothing leaves this machine. Choose where the library lives and how it is locked.</source>
        <translation>Enclave 将您的文档保存在本机的加密资料库中，并回答与之相关的问题。任何数据都不会离开这台计算机。请选择资料库的存放位置和加锁方式。</translation>
    </message>
    <message>
        <source>Library folder</source>
        <translation>资料库文件夹</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <source>Lock</source>
        <translation>加锁方式</translation>
    </message>
    <message>
        <source>Keep the key in the system keyring (recommended)</source>
        <translation>将密钥保存在系统钥匙串中（推荐）</translation>
    </message>
    <message>
        <source>System keyring (not available on this computer)</source>
        <translation>系统钥匙串（本机不可用）</translation>
    </message>
    <message>
        <source>Ask for a passphrase when Enclave starts</source>
        <translation>每次启动 Enclave 时输入口令</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Create library</source>
        <translation>创建资料库</translation>
    </message>
    <message>
        <source>Checking the bundled models…</source>
        <translation>正在检查内置模型…</translation>
    </message>
    <message>
        <source>{0} is ready</source>
        <translation>{0} 已就绪</translation>
    </message>
    <message>
        <source>Choose a folder for the library.</source>
        <translation>请为资料库选择一个文件夹。</translation>
    </message>
</context>
<context>
    <name>SourceChips</name>
    <message>
        <source>Closest passages:</source>
        <translation>最接近的段落：</translation>
    </message>
    <message>
        <source>They do not answer the question well enough, but you may want to read them.</source>
        <translation>它们不足以回答这个问题，但您也许想读一读。</translation>
    </message>
    <message>
        <source>▾ Fewer sources</source>
        <translation>▾ 收起出处</translation>
    </message>
    <message>
        <source>▸ More sources ({0})</source>
        <translation>▸ 更多出处（{0}）</translation>
    </message>
    <message>
        <source>Passages that were found but that this answer does not use</source>
        <translation>检索到但本回答未使用的段落</translation>
    </message>
    <message>
        <source>{0} · p. {1}</source>
        <translation>{0} · 第 {1} 页</translation>
    </message>
    <message>
        <source>Click to open the passage.</source>
        <translation>点击打开该段落。</translation>
    </message>
</context>
<context>
    <name>SourceViewer</name>
    <message>
        <source>Source</source>
        <translation>出处</translation>
    </message>
    <message>
        <source>Previous page</source>
        <translation>上一页</translation>
    </message>
    <message>
        <source>Next page</source>
        <translation>下一页</translation>
    </message>
    <message>
        <source>Zoom out</source>
        <translation>缩小</translation>
    </message>
    <message>
        <source>Zoom in</source>
        <translation>放大</translation>
    </message>
    <message>
        <source>Open file</source>
        <translation>打开文件</translation>
    </message>
    <message>
        <source>The file is no longer at {0}: showing the text kept in the library.</source>
        <translation>文件已不在 {0}：显示资料库中保存的文本。</translation>
    </message>
    <message>
        <source>Page {0} of {1}</source>
        <translation>第 {0} 页，共 {1} 页</translation>
    </message>
</context>
</TS>
