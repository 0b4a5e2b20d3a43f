// Package importer reads the household 台账 spreadsheets county poverty
// offices keep (CSV in UTF-8, UTF-16 or GB18030/GBK, or XLSX) and imports
// their households, members, cadres and pairings; and writes the register
// back out in that layout.
//
// A household sheet is laid out one row per household member, or one row
// per household (no 与户主关系 and 姓名 columns: the head is the only member
// listed and 家庭人口 is recorded as declared), with Chinese headings (common
// variants and stray whitespace are accepted; see the column list in
// columns.go); the Report says which layout it saw. Headings on two rows —
// a group heading merged over sub-headings, 帮扶责任人 over 姓名/联系电话 —
// are read as the columns they name (read.go, headings); a column with
// data under an empty heading is a file-level error, never dropped. A sheet of region codes
// without 户主姓名 is the region tree instead (regiontree.go): each row names
// a path 市 › 县/区 › 乡镇 › 村 by names and 12-digit codes, and what is
// missing on it is created under the importer's region. With
// Options.CreateRegions a household sheet creates its missing villages the
// same way, from their 村代码, and its missing village groups from their
// 15-digit 村民小组代码 (without it a household is filed under its village,
// with a warning); a new village takes the 是否贫困村 mark its rows give (a
// household sheet never changes a stored mark: a row contradicting one is
// warned of). Rows of one household are grouped by 户编号 when the file has
// it, else by village, head name and the head's 身份证号. A row whose
// household cells (县/区, 乡镇, 所属村, 户编号, 户主姓名) are all empty continues
// the household of the row above, as merged cells in an office spreadsheet do.
// A row that gives its household and leaves every member cell empty
// (与户主关系, 姓名, 身份证号, 健康状况, 残疾等级, 文化程度, 务工状况) is a household
// without members, as the register API allows and the export writes it;
// its 联系电话 is the household's when 家庭联系电话 is empty. It must be its
// household's only row: among member rows — of its 户编号, or without one
// of its village and head, such as rows continuing it — it is a member row
// missing its 姓名 and 与户主关系.
//
// The register's states import as the register API leaves them: a head
// without 身份证号 (still being collected), and members without a head (the
// head removed, no new one named yet: imported with a warning, under its
// 户主姓名). Two heads are refused, as the API refuses them. A household
// the file gives no key — no 户编号 and no head's 身份证号 — matches the one
// stored household of its village with that head and no number.
//
// 家庭联系电话 is the household's phone and 联系电话 each member's own; a file
// without 家庭联系电话 gives the household the phone of its head's row (or of
// its first row with one), as county 台账 that list one phone do.
//
// Every row is validated and every problem reported, with the spreadsheet
// row number (the header is row 1 when it is the first row), the heading as
// written in the file, a reason code and messages in Chinese and English.
// A region that rows need and cannot have (a city the province lacks and
// the file names by 市代码 alone, a province outside the importer's region)
// is one problem, on the first row that needs it, saying how many do.
// By default an import is all-or-nothing: one bad row and nothing is written.
// With Options.AllowPartial the households whose rows are all valid are
// imported and the others reported. Whatever is written is written in one
// transaction (Store.ApplyImport, given one Plan).
//
// A 身份证号 or 户编号 registered in the county outside the importer's subtree
// blocks its household with a problem that says only that it is registered
// in another region, and is written to the audit log, dry run or not; past
// DefaultMaxForeignHits such hits the file is refused (plan.go says why).
//
// A new household takes the status its register gives it, whatever it is:
// a county moving onto fieldvisit brings 返贫 and 清退 households too, each
// with what that status needs (domain.ValidateOpeningStatus): a relapse its
// 返贫原因 (a relapse cause), a removal its 清退原因, and registered,
// exited and relapsed households their 贫困户属性; a row lacking one is
// refused at that column, and neither column goes with another status.
//
// Imports are idempotent: households, members, cadres and pairings are
// matched by natural keys, identical records are left alone, and re-importing
// a file changes nothing. A cell that is empty never clears a stored value.
// Status and poverty-type changes of existing households are not applied (they
// need dated records through the status API); they are reported as warnings,
// as is a 建档年份 (the year registered, which a new household takes) that
// differs from a stored household's.
//
// 帮扶责任人账号 (the export writes it) names a cadre by username, exactly,
// before anything else: an account nobody has is created under that
// username with the 帮扶责任人 as display name, and a 帮扶责任人 that is not
// the account's display name is a warning. A row without it whose
// 帮扶责任人 is a name the file gives an account (and whose 帮扶责任人电话,
// when given, that account's rows give) is that same cadre; when the name
// could be two people of the file (two accounts, or an account and another
// phone) and the row gives no phone to tell them, the row is refused at
// 帮扶责任人, never guessed. Otherwise,
// 帮扶责任人 names a cadre: a value that looks like a username (lowercase
// letters, digits, . _ -) must be an existing cadre's username in the
// importer's subtree; anything else is a display name, matched among the
// cadres of the subtree (two matches are an error asking for the username).
// A deactivated cadre, or an account outside the importer's subtree (a
// county cadre, in a town supervisor's file), is refused for a household,
// but for one whose open pairing with them is stored (its export names
// them, and its re-import keeps the pairing). A display name that matches nobody creates the
// cadre, with the unit (by name in the county, created when missing), rank
// and phone of the file, the phone number (or a short hash) as username,
// and an unusable password that an admin replaces.
//
// Export writes the register back out in the same layout (export.go): one
// row per member (one for a household without members) under the headings
// Import reads, every region from the
// city down by name and code, so the file re-imports cleanly, into the same
// county or a fresh database — one with only the province included.
//
// The package has no HTTP and no SQL: it declares the Store it needs, with
// its own types (Plan, Lookup, Existing, …), and package storage implements it.
package importer
