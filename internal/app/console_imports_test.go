package app

import (
	"bytes"
	"encoding/csv"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// postImport sends file to the import page as the form does, with the
// checkboxes given ticked, and returns the page as text.
func (c *consoleClient) postImport(csrf, mode string, file []byte, ticked ...string) (int, string) {
	c.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	fields := map[string]string{"csrf_token": csrf, "mode": mode}
	for _, f := range ticked {
		fields[f] = "true"
	}
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			c.t.Fatal(err)
		}
	}
	fw, err := w.CreateFormFile("file", "台账.csv")
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := fw.Write(file); err != nil {
		c.t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		c.t.Fatal(err)
	}
	req, err := http.NewRequest("POST", c.e.url+"/ui/admin/imports", &b)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return res.StatusCode, pageText(c.t, page{Response: res, body: string(body)})
}

func csvBytes(t *testing.T, rows [][]string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := csv.NewWriter(&b).WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var errorRowCell = regexp.MustCompile(`<td class="[^"]*">第(\d+)行</td><td class="[^"]*">[^<]*</td><td class="[^"]*tone-bad`)

// consoleImports: the import page — errors by row, the two options the API
// has (create_regions, allow_partial) as checkboxes, no empty box before a
// file is sent, and a region sheet reported as one.
func consoleImports(t *testing.T, e *consoleEnv) {
	admin := e.principal(t, "admin")
	village, town := e.demoVillage(t, admin)
	head := []string{"乡镇", "所属村", "村代码", "户编号", "户主姓名", "与户主关系", "姓名", "身份证号", "家庭人口", "贫困户属性", "户类型"}
	households := csvBytes(t, [][]string{head,
		// row 2: a village that does not exist yet, with its code
		{town.Name, "新试二村", town.Code[:9] + "997", "T-ONB-2", "测试丙", "户主", "测试丙", "410122196503120117", "1", "一般贫困户", "在册未脱贫"},
		// row 3: a bad check digit
		{town.Name, village.Name, "", "T-ONB-3", "测试丁", "户主", "测试丁", "410122196503120118", "1", "一般贫困户", "在册未脱贫"},
		// row 4: a household without errors
		{town.Name, village.Name, "", "T-ONB-4", "测试戊", "户主", "测试戊", "410122197001010019", "1", "一般贫困户", "在册未脱贫"},
	})
	regions := csvBytes(t, [][]string{{"乡镇", "乡镇代码", "村", "村代码"}, {town.Name, town.Code, "新试村", town.Code[:9] + "998"}})

	c := e.client(t)
	csrf := c.mustLogin("admin")
	if r := c.get("/ui/admin/imports"); true {
		body := pageText(t, r)
		for _, want := range []string{`<input type="checkbox" name="create_regions" value="true">`, `<input type="checkbox" name="allow_partial" value="true">`} {
			if !strings.Contains(body, want) {
				t.Errorf("the form has no %s", want)
			}
		}
		if regexp.MustCompile(`<section class="panel" id="import-report">\s*</section>`).MatchString(body) {
			t.Error("an empty box stands under the form")
		}
	}
	for _, tt := range []struct {
		name      string
		file      []byte
		ticked    []string
		errorRows []string
		has       []string
		hasNo     []string
	}{
		{"errors are listed by row", households, nil, []string{"2", "3"}, []string{"未写入任何数据"}, nil},
		{"create_regions: the new village is listed, not an error", households, []string{"create_regions"}, []string{"3"},
			[]string{"将新建的区划", "新试二村", town.Code[:9] + "997"}, nil},
		{"allow_partial: the household without errors would be imported", households, []string{"allow_partial"}, []string{"2", "3"},
			[]string{"部分导入", `<td class="">户</td><td class="num">1</td>`}, nil},
		{"a region sheet says so and counts regions", regions, nil, nil,
			[]string{"读到的是：行政区划表", `<td class="">行政区划</td><td class="num">1</td>`, "新试村"}, []string{`<td class="">家庭成员</td>`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, body := c.postImport(csrf, "dry_run", tt.file, tt.ticked...)
			var rows []string
			for _, m := range errorRowCell.FindAllStringSubmatch(body, -1) {
				rows = append(rows, m[1])
			}
			if !slices.Equal(rows, tt.errorRows) {
				t.Errorf("error rows %q, want %q", rows, tt.errorRows)
			}
			for _, s := range tt.has {
				if !strings.Contains(body, s) {
					t.Errorf("the report does not say %q", s)
				}
			}
			for _, s := range tt.hasNo {
				if strings.Contains(body, s) {
					t.Errorf("the report says %q", s)
				}
			}
			if t.Failed() {
				i := strings.Index(body, `id="import-report"`)
				t.Logf("report: %.3000s", body[max(i, 0):])
			}
		})
	}
}
